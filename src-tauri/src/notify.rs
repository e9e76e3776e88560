//! Desktop notifications for messages that arrive while the window is not focused.
//!
//! On Linux the notification is sent with `notify-rust` (the library under
//! tauri-plugin-notification) because the plugin has no click callback on desktop: a click
//! (the default action) shows the window and emits `open-conversation`. Elsewhere the
//! plugin shows it (a click just raises the app, as the OS does).

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

#[cfg(target_os = "linux")]
fn show(app: &AppHandle, title: String, body: String, conversation_id: String) {
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
    fn bodies_are_one_short_line() {
        let m = Message::new_outgoing("1", "2", 1, "line one\nline two", 0);
        assert_eq!(body(&m), "line one line two");
        let long = Message::new_outgoing("1", "2", 1, &"雁".repeat(300), 0);
        let b = body(&long);
        assert_eq!(b.chars().count(), 121);
        assert!(b.ends_with('…'));
    }
}
