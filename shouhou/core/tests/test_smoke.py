import pytest


@pytest.mark.django_db
def test_healthz_answers_200_when_database_answers(client):
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_no_template_has_a_multi_line_short_comment():
    """Django's {# #} comments end at the line; a multi-line one is printed on the page."""
    from pathlib import Path

    import shouhou

    root = Path(shouhou.__file__).parent / "templates"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert offenders == []


@pytest.mark.django_db
def test_landing_page_shows_no_template_syntax(client):
    html = client.get("/").content.decode()
    assert "{#" not in html
    assert "{%" not in html
