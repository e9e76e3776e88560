//! Hostile text from real server users (issue 9, "the app"): a nickname, a message, a friend
//! request and a group name made of markup reach the real app through the real server; the
//! webview shows them as text, runs none of them, loads nothing remote, and its CSP (the one
//! in tauri.conf.json) reports no violation. The same payloads in every other field are
//! covered by the Playwright spec `tests/e2e/ui/xss.mjs`.

use serde_json::Value;

use crate::desktop::Desktop;
use crate::harness::*;

/// Would set `window.__xss` if the nickname became markup (64 characters at most).
const NICK: &str = "<img src=x onerror=\"window.__xss='nick'\">";
const NICK2: &str = "\u{202E}trudy\"><svg onload=\"window.__xss='svg'\">";
const BODY: &str = "<script>window.__xss='script'</script><img src=\"https://evil.example/r.png\" \
     onerror=\"window.__xss='img'\"> <a href=\"javascript:window.__xss='a'\">link</a> \
     https://evil.example/plain.png";
const GROUP: &str = "\"><img src=x onerror=\"window.__xss='group'\">";
const NOTICE_TITLE_TEXT: &str = "<script>window.__xss='notice'</script>";
const NOTICE_BODY_TEXT: &str =
    "<img src=\"https://evil.example/n.png\" onerror=\"window.__xss='nb'\">";
const REQUEST: &str = "<iframe src=\"https://evil.example/f\"></iframe>add me&amp;";

/// Listens for CSP violations from now on (the page is loaded; nothing user-made is shown yet).
const WATCH_CSP: &str = "window.__csp = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    return true;";

/// What a payload could have left behind, as a list of findings (empty when clean).
const FINDINGS: &str = "const bad = [];
    if (window.__xss !== undefined) bad.push('window.__xss = ' + window.__xss);
    for (const el of document.querySelectorAll('*'))
      for (const a of el.getAttributeNames()) if (/^on/i.test(a)) bad.push('<' + el.localName + ' ' + a + '>');
    for (const el of document.querySelectorAll('iframe, object, embed, a[href], base'))
      bad.push('<' + el.localName + '>');
    for (const el of document.querySelectorAll('script'))
      if (!el.src) bad.push('inline <script>');
    for (const el of document.querySelectorAll('img'))
      if (!/^(data:|blob:|hymedia:|http:\\/\\/hymedia\\.localhost\\/)/.test(el.getAttribute('src') || ''))
        bad.push('<img src=' + el.getAttribute('src') + '>');
    // Everything the page fetched: the app's own files, IPC and the media scheme only.
    for (const r of performance.getEntriesByType('resource'))
      if (!/^(tauri:|ipc:|hymedia:|data:|blob:|http:\\/\\/(tauri|ipc|hymedia)\\.localhost\\/)/.test(r.name))
        bad.push('fetched ' + r.name);
    return bad;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_hostile_names_and_texts_render_as_text_under_the_csp() {
    let env = AppEnv::start(None).await;
    let d = env.session().await;
    assert_eq!(d.script(WATCH_CSP).await, Value::Bool(true));
    register_and_sign_in(&d, "alice", "Alice").await;
    let (_, alice_id) = env.http_login("alice", PASSWORD).await;

    // Mallory: a friend whose nickname is markup; she writes markup and makes a group.
    let (mallory, mallory_account) = env.sdk_user("mallory", NICK).await;
    env.befriend("mallory", "alice").await;
    mallory
        .send_text(&alice_id, BODY)
        .await
        .expect("mallory sends");
    let group = mallory
        .create_group(GROUP, std::slice::from_ref(&alice_id))
        .await
        .expect("mallory makes a group");
    // Trudy: a stranger with a right-to-left override in her name asks to be friends.
    let (trudy, _) = env.sdk_user("trudy", NICK2).await;
    trudy
        .send_friend_request(&alice_id, REQUEST)
        .await
        .expect("trudy asks");

    // An administrator's notice with markup in its title and body.
    env.server
        .create_admin("admin", PASSWORD)
        .await
        .expect("admin account");
    let (admin, _) = env.http_login("admin", PASSWORD).await;
    let published = reqwest::Client::new()
        .post(env.api("/admin/broadcasts"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"title": NOTICE_TITLE_TEXT, "body": NOTICE_BODY_TEXT, "audience": "all"}))
        .send()
        .await
        .expect("publish");
    assert_eq!(published.status(), reqwest::StatusCode::CREATED);

    let row = conversation(&mallory_account.user_id);
    d.wait_for_text(&row, NICK).await;
    d.click(&row).await;
    d.wait_for_text(CHAT_NAME, NICK).await;
    d.wait_for_text(MESSAGE, BODY).await;
    d.wait_for_text(&conversation(&group.group_id), GROUP).await;
    d.click(&conversation(&group.group_id)).await;
    d.wait_for_text(CHAT_NAME, GROUP).await;
    d.wait_for_text(SYSTEM_LINE, GROUP).await;
    d.click(&conversation(NOTICES)).await;
    d.wait_for_text(NOTICE_TITLE, NOTICE_TITLE_TEXT).await;
    d.wait_for_text(NOTICE_BODY, NOTICE_BODY_TEXT).await;
    d.click(NAV_CONTACTS).await;
    d.wait_for_text(FRIEND_REQUEST, REQUEST).await;
    d.wait_for_text(FRIEND_REQUEST, NICK2).await;
    d.wait_for_text(&friend(&mallory_account.user_id), NICK)
        .await;

    let fetched = d
        .script("return performance.getEntriesByType('resource').map((r) => r.name.split('/').slice(0, 3).join('/'));")
        .await;
    println!("resources the webview fetched, by origin: {fetched}");
    let findings = d.script(FINDINGS).await;
    assert_eq!(findings, Value::Array(vec![]), "what the payloads did");
    let csp = d.script("return window.__csp;").await;
    assert_eq!(csp, Value::Array(vec![]), "CSP violations");
    let errors = d.script("return window.__e2eErrors || [];").await;
    assert_eq!(errors, Value::Array(vec![]), "page errors");

    // The listener hears the webview's CSP: a remote image made here is refused and reported.
    d.script(
        "const i = document.createElement('img');
         i.src = 'https://evil.example/probe.png';
         document.body.appendChild(i);
         return true;",
    )
    .await;
    let start = std::time::Instant::now();
    loop {
        let csp = d.script("return window.__csp;").await;
        if csp.as_array().is_some_and(|v| !v.is_empty()) {
            println!("the CSP refused the probe: {csp}");
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "no CSP violation reported for a remote image: is the CSP applied?"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    d.quit().await;
    mallory.shutdown().await;
    trudy.shutdown().await;
}

/// A message with markup, arriving while the window is hidden, rings with its markup escaped:
/// the notification daemon (dunst, which reads bodies as markup) shows it as typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, D-Bus, dunst, tauri-driver and the built UI: run by scripts/test-app.sh"]
async fn app_notification_of_a_markup_message_is_text() {
    let desktop = Desktop::start(true).await;
    let env = AppEnv::start(Some(&desktop.address)).await;
    let d = env.session().await;
    register_and_sign_in(&d, "alice", "Alice").await;
    let (_, alice_id) = env.http_login("alice", PASSWORD).await;
    let (mallory, _) = env.sdk_user("mallory", "Mallory").await;
    env.befriend("mallory", "alice").await;
    desktop.tray().await.click("Hide").await;
    d.wait_visibility("hidden").await;

    let text =
        "<b>urgent</b> <a href=\"https://evil.example\">open</a> &amp; <img src=\"file:///etc/x\">";
    mallory
        .send_text(&alice_id, text)
        .await
        .expect("mallory sends");
    let shown = desktop
        .wait_shown(
            "&lt;b&gt;urgent&lt;/b&gt; &lt;a href=\"https://evil.example\"&gt;open&lt;/a&gt; \
             &amp;amp; &lt;img src=\"file:///etc/x\"&gt;",
        )
        .await;
    assert_eq!(shown.app, "Hongyan");
    d.quit().await;
    mallory.shutdown().await;
}
