//! Desktop notifications for messages that arrive while the window is not focused.
//!
//! On Linux the notification is sent with `notify-rust` (the library under
//! tauri-plugin-notification) because the plugin has no click callback on desktop: a click
//! (the default action) shows the window and emits `open-conversation`. Elsewhere the
//! plugin shows it (a click just raises the app, as the OS does).

use hongyan_sdk::model::FriendRequest;
use hongyan_sdk::Message;
use tauri::AppHandle;

/// The notification text for a message: at most 120 characters, one line.
pub fn body(message: &Message) -> String {
    let text = message.preview().replace(['\n', '\r'], " ");
    let mut out: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        out.push('…');
    }
    out
}

pub fn message(app: &AppHandle, sender: &str, m: &Message) {
    let title = format!("Hongyan — {sender}");
    let body = body(m);
    show(app, title, body, m.conversation_id.clone());
}

/// Title and body for a friend request: who asks, and their message on one short line.
pub fn friend_request_text(r: &FriendRequest) -> (String, String) {
    let who = if r.from.nickname.trim().is_empty() {
        r.from.username.clone()
    } else {
        r.from.nickname.clone()
    };
    let message = r.message.replace(['\n', '\r'], " ");
    let message = message.trim();
    let mut body = if message.is_empty() {
        format!("{who} wants to be your friend.")
    } else {
        format!("{who} wants to be your friend: {message}")
    };
    if body.chars().count() > 120 {
        body = body.chars().take(120).collect::<String>() + "…";
    }
    ("Hongyan — Friend request".to_owned(), body)
}

/// A friend request while the window is not focused; a click opens the chat with the asker
/// (where the request can be answered).
pub fn friend_request(app: &AppHandle, r: &FriendRequest) {
    let (title, body) = friend_request_text(r);
    show(app, title, body, r.from.user_id.clone());
}

/// Linux notification servers read the body as markup: a sender's text must stay text.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn markup_escaped(body: &str) -> String {
    body.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(target_os = "linux")]
fn show(app: &AppHandle, title: String, body: String, conversation_id: String) {
    // Every body (messages too, not only friend requests) is the sender's text.
    let body = markup_escaped(&body);
    let app = app.clone();
    // wait_for_action blocks until the notification is clicked or closed: its own thread.
    let spawned = std::thread::Builder::new()
        .name("notification".into())
        .spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("Hongyan")
                .summary(&title)
                .body(&body)
                .icon("hongyan")
                .action("default", "Open")
                .show();
            match shown {
                Ok(handle) => handle.wait_for_action(|action| {
                    if action == "default" {
                        *crate::state::lock(
                            &tauri::Manager::state::<crate::state::AppState>(&app).pending_open,
                        ) = Some(conversation_id);
                        let app2 = app.clone();
                        let _ = app.run_on_main_thread(move || crate::tray::open_pending(&app2));
                    }
                }),
                Err(e) => tracing::debug!(error = %e, "no notification daemon"),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

#[cfg(not(target_os = "linux"))]
fn show(app: &AppHandle, title: String, body: String, _conversation_id: String) {
    use tauri_plugin_notification::NotificationExt;
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_body_stays_text() {
        assert_eq!(
            markup_escaped("<b>hi</b> & <a href=\"javascript:x\">"),
            "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;a href=\"javascript:x\"&gt;"
        );
        assert_eq!(
            markup_escaped("&lt;"),
            "&amp;lt;",
            "an entity is shown as typed"
        );
    }

    #[test]
    fn bodies_are_one_short_line() {
        let m = Message::new_outgoing("1", "2", 1, "line one\nline two", 0);
        assert_eq!(body(&m), "line one line two");
        let long = Message::new_outgoing("1", "2", 1, &"雁".repeat(300), 0);
        let b = body(&long);
        assert_eq!(b.chars().count(), 121);
        assert!(b.ends_with('…'));
    }

    #[test]
    fn friend_requests_name_the_asker_and_their_message() {
        let user = |nickname: &str| hongyan_sdk::User {
            user_id: "10002".into(),
            username: "bob".into(),
            nickname: nickname.into(),
        };
        let mut r = FriendRequest {
            id: 1,
            from: user("Bob"),
            to: user("Me"),
            message: "hi\nit's me".into(),
            status: hongyan_sdk::model::FriendRequestStatus::Pending,
            created_at: 0,
        };
        assert_eq!(
            friend_request_text(&r),
            (
                "Hongyan — Friend request".to_owned(),
                "Bob wants to be your friend: hi it's me".to_owned()
            )
        );
        r.message = String::new();
        r.from = user(" ");
        assert_eq!(friend_request_text(&r).1, "bob wants to be your friend.");
        r.message = "x".repeat(300);
        let b = friend_request_text(&r).1;
        assert_eq!(b.chars().count(), 121);
        assert!(b.ends_with('…'));
    }
}
