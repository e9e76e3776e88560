//! The real app killed with SIGKILL while a message is still on its way (docs/RELIABILITY.md,
//! "Client crash safety"): the message the composer accepted is in the app's store before it
//! goes out, so the next launch resends it and the peer gets it exactly once.

use std::time::Duration;

use hongyan_sdk::Event;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_killed_while_sending_resends_after_restart() {
    let mut env = AppEnv::start(None).await;
    let d = env.session().await;
    register_and_sign_in(&d, "carol", "Carol").await;
    let (bob, bob_account) = env.sdk_user("bob", "Bob").await;
    let carol = env.http_login("carol", PASSWORD).await.1;
    env.befriend("bob", "carol").await;
    bob.send_text(&carol, "are you there?")
        .await
        .expect("bob sends");
    d.click(&conversation(&bob_account.user_id)).await;
    d.wait_for_text(MESSAGE, "are you there?").await;

    // The server is gone: the message stays "sending" in the app's outbox.
    env.server.kill().await;
    let text = "written just before the crash";
    d.type_into(COMPOSER, text).await;
    d.click(SEND).await;
    d.wait_for_text(MESSAGE, text).await;
    let pid = app_pid(&env.app).expect("the app runs");
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill -9 the app");
    env.wait_app_gone().await;
    // WebKitWebDriver allows one session: end the dead app's.
    d.quit().await;

    // Server back, app started again: the session resumes and the outbox resends.
    env.server.restart().await;
    let mut events = bob.events();
    let d = env.session().await;
    d.wait_for(MAIN_WINDOW).await;
    let got = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(Event::MessageReceived(m)) if m.content == text => return m,
                Ok(_) => {}
                Err(e) => panic!("bob's events: {e}"),
            }
        }
    })
    .await
    .expect("bob gets the message the killed app had accepted");
    assert_eq!(got.from, carol);

    // Exactly once, in Bob's store and in the app.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let history = bob.history(&carol, None, 50).await.expect("bob's history");
    let copies = history.iter().filter(|m| m.content == text).count();
    assert_eq!(copies, 1, "delivered exactly once: {history:#?}");
    d.click(&conversation(&bob_account.user_id)).await;
    d.wait_for_text(MESSAGE, text).await;
    let mut shown = 0;
    for e in d.find_all(MESSAGE).await {
        if d.text(&e).await.contains(text) {
            shown += 1;
        }
    }
    assert_eq!(shown, 1, "the app shows its message once");
    d.quit().await;
    bob.shutdown().await;
}
