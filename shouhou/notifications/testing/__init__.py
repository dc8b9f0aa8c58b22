"""Faithful local fakes of the providers the notification channels talk to (tests only).

``wechat.FakeWeChatServer`` and ``webpush.FakePushService`` are real HTTP servers on
127.0.0.1 (a random port, one thread per request) that the real adapters talk to, so the tests
exercise the adapters' HTTP, token, signing and encryption code end to end.
"""
