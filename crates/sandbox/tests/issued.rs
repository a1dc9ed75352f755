//! The record of issued secrets the leak scan searches for: with
//! `LATCHKEY_SANDBOX_RECORD` set, the sandbox writes every token it hands out
//! and every credential it knows to that file; without it, nothing. (Its own
//! test binary: the variable is read when a sandbox starts, process-wide.)

use latchkey_sandbox::{avassa, issued, Sandbox};

async fn avassa_login(sandbox: &Sandbox) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/login", sandbox.url_of("avassa")))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({
                "username": "alice",
                "password": avassa::ALICE_PASSWORD,
                "tenant": "acme",
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    answer["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_sandbox_records_what_it_issues_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("issued.txt");

    let quiet = Sandbox::start(0).await.unwrap();
    avassa_login(&quiet).await;
    assert!(!record.exists(), "nothing is recorded unless asked");
    quiet.stop().await;

    // No other thread of this binary reads the environment meanwhile: it is
    // this file's only test.
    std::env::set_var(issued::ENV, &record);
    let recording = Sandbox::start(0).await.unwrap();
    let token = avassa_login(&recording).await;
    recording.stop().await;
    std::env::remove_var(issued::ENV);

    let lines: Vec<String> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(lines.contains(&token), "the issued token is recorded");
    assert!(
        lines.iter().any(|l| l == avassa::ALICE_PASSWORD),
        "and the known credentials"
    );
    assert!(lines.iter().all(|l| l.len() >= 8), "{lines:?}");
}
