from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_health_answers_without_a_database() -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": {{ startup.displayName | dump }}}


def test_startup_profile() -> None:
    assert client.get("/api/startup").json()["industry"] == {{ startup.industry | dump }}
