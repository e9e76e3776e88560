//! The tray icon: unread count next to the icon, in the tooltip and in the menu;
//! Show / Hide / Quit.
//!
//! On Linux the icon is a StatusNotifierItem (libayatana-appindicator), which has no
//! tooltip: the count is the item's label (`set_title`) and the menu's first line there.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::events;
use crate::state::{lock, AppState};

/// The tray icon's id.
pub const ID: &str = "main";

/// The unread line of the menu (kept to update its text).
struct UnreadItem(MenuItem<Wry>);

/// Tooltip and menu text for `total` unread messages.
pub fn unread_text(total: u64) -> String {
    match total {
        0 => "No unread messages".to_owned(),
        1 => "1 unread message".to_owned(),
        n => format!("{n} unread messages"),
    }
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let unread = MenuItem::with_id(app, "unread", unread_text(0), false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Hongyan", true, None::<&str>)?;
    let hide = MenuItem::with_id(app, "hide", "Hide", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Hongyan", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &unread,
            &PredefinedMenuItem::separator(app)?,
            &show,
            &hide,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id(ID)
        .tooltip("Hongyan")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" | "unread" => open_pending(app),
            "hide" => {
                if let Some(w) = app.get_webview_window(crate::MAIN_WINDOW) {
                    let _ = w.hide();
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                open_pending(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    app.manage(UnreadItem(unread));
    Ok(())
}

/// Shows the window and, when a message arrived while it was away, asks the UI to open
/// that conversation (`open-conversation`).
pub fn open_pending(app: &AppHandle) {
    crate::show_main(app);
    if let Some(state) = app.try_state::<AppState>() {
        if let Some(id) = lock(&state.pending_open).take() {
            crate::commands::emit(
                app,
                events::OPEN_CONVERSATION,
                events::open_conversation(&id),
            );
        }
    }
}

/// The tooltip for `total` unread messages.
pub fn tooltip(total: u64) -> String {
    if total == 0 {
        "Hongyan".to_owned()
    } else {
        format!("Hongyan — {}", unread_text(total))
    }
}

/// The text next to the icon: the count, nothing when there is none.
pub fn label(total: u64) -> String {
    if total == 0 {
        String::new()
    } else {
        total.to_string()
    }
}

/// Puts the unread count into the label, the tooltip and the menu.
pub fn set_unread(app: &AppHandle, total: u64) {
    let text = unread_text(total);
    if let Some(tray) = app.tray_by_id(ID) {
        let _ = tray.set_tooltip(Some(tooltip(total)));
        let _ = tray.set_title(Some(label(total)));
    }
    if let Some(item) = app.try_state::<UnreadItem>() {
        let _ = item.0.set_text(text);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unread_text_reads_well() {
        assert_eq!(super::unread_text(0), "No unread messages");
        assert_eq!(super::unread_text(1), "1 unread message");
        assert_eq!(super::unread_text(12), "12 unread messages");
    }

    #[test]
    fn label_and_tooltip_show_the_count_only_when_there_is_one() {
        assert_eq!(super::label(0), "");
        assert_eq!(super::label(7), "7");
        assert_eq!(super::tooltip(0), "Hongyan");
        assert_eq!(super::tooltip(1), "Hongyan — 1 unread message");
    }
}
