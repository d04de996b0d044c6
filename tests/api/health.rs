use idgate::config::Settings;
use idgate::startup::Application;

use crate::helpers::engine;

#[tokio::test]
async fn healthz_and_readyz_answer_on_a_port_zero_server() {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    let app = Application::build(&settings, engine()).unwrap();
    let port = app.port();
    assert_ne!(port, 0);
    let server = tokio::spawn(app.run());
    let client = reqwest::Client::new();

    let health = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    let ready = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
    server.abort();
}
