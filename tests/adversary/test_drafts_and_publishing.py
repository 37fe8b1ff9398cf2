"""Issue 11, point 9: a draft is the secretary's only (its roll says why members are
excluded); the results, results.csv/json and the record are public once published."""

from __future__ import annotations

from web.conftest import admin_client, app, client, create_meeting, post  # noqa: F401


def test_a_draft_is_not_public(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-d")
    anon = app.test_client()
    for url in ("/api/v1/elections/chi-bo-d/ceremony", "/api/v1/elections/chi-bo-d",
                "/api/v1/elections/chi-bo-d/counters", "/api/v1/elections/chi-bo-d/board",
                "/api/v1/elections/chi-bo-d/rounds", "/api/v1/elections/chi-bo-d/aggregate",
                "/api/v1/elections/chi-bo-d/close", "/api/v1/elections/chi-bo-d/record",
                "/api/v1/elections/chi-bo-d/results.json", "/v/chi-bo-d", "/p/chi-bo-d",
                "/b/chi-bo-d", "/r/chi-bo-d", "/v/chi-bo-d/audit", "/t/chi-bo-d",
                "/t/chi-bo-d/progress"):
        resp = anon.get(url)
        assert resp.status_code == 404, url
        assert "Nguyễn" not in resp.get_data(as_text=True), url
    # The secretary still sees it; once the ceremony begins the trustees' API answers.
    assert admin_client.get("/api/v1/elections/chi-bo-d/ceremony").status_code == 200
    post(admin_client, "/admin/m/chi-bo-d/begin")
    assert anon.get("/api/v1/elections/chi-bo-d/ceremony").status_code == 200
