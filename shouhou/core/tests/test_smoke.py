import pytest


@pytest.mark.django_db
def test_healthz_answers_200_when_database_answers(client):
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
