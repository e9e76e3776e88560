//! The storage backend conformance suite: every case in `store_conformance/cases/` runs
//! against both backends, `sqlite` (`Store::open` on a temp dir) and `postgres` (a real
//! PostgreSQL from `hongyan_tests::PgServer`, one server per test), so both keep the same
//! `Storage` contract (docs/DEPLOY.md, "Storage backend"). Each case is a test module with
//! two tests: `<case>::sqlite` and `<case>::postgres`.
//!
//! A case gets [`Nodes`]: it derefs to the first node's [`Store`]; `other_node()` is a second
//! handle on the same data (another `PostgresStore` pool, like a second server node; for
//! SQLite, which has one writer per database, a clone of the same store), for the cases
//! that write from "two nodes" at once.

#[path = "store_conformance/cases/mod.rs"]
mod cases;

use std::ops::Deref;

use hongyan_server::store::{postgres::PostgresStore, Store};
use hongyan_tests::PgServer;

/// Two handles on one backend's data, and what keeps that data alive.
pub struct Nodes {
    first: Store,
    second: Store,
    _data: Data,
}

enum Data {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgServer),
}

impl Nodes {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open SQLite");
        Self {
            first: store.clone(),
            second: store,
            _data: Data::Sqlite(dir),
        }
    }

    async fn postgres() -> Self {
        let pg = PgServer::start().await;
        let url = pg.url();
        let first = PostgresStore::connect(&url).await.expect("connect");
        let second = PostgresStore::connect(&url).await.expect("connect again");
        Self {
            first: Store::new(first),
            second: Store::new(second),
            _data: Data::Postgres(pg),
        }
    }

    /// A second node on the same data.
    pub fn other_node(&self) -> &Store {
        &self.second
    }

    async fn close(&self) {
        self.first.close().await;
        self.second.close().await;
    }
}

impl Deref for Nodes {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.first
    }
}

/// `conformance! { module::case, … }`: a test module per case with a `sqlite` and a
/// `postgres` test running it.
macro_rules! conformance {
    ($($area:ident :: $case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let nodes = crate::Nodes::sqlite().await;
                crate::cases::$area::$case(&nodes).await;
                nodes.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let nodes = crate::Nodes::postgres().await;
                crate::cases::$area::$case(&nodes).await;
                nodes.close().await;
            }
        }
    )*};
}

conformance! {
    accounts::user_ids_start_at_10001_and_names_are_unique_ignoring_case,
    accounts::concurrent_sign_ups_of_one_name_make_one_account,
    accounts::tokens_expire_revoke_and_carry_the_account_flags,
    mailbox::seqs_are_per_user_and_increase,
    mailbox::duplicate_fp_is_not_stored_twice,
    mailbox::unknown_recipient_or_stranger_stores_nothing,
    mailbox::a_missing_user_on_either_side_leaves_the_other_mailbox_untouched,
    mailbox::concurrent_writers_get_consecutive_seqs_without_gaps,
    mailbox::crossing_writers_and_concurrent_duplicates_neither_deadlock_nor_double_store,
    mailbox::after_close_writes_fail_with_closed,
    friends::requests_are_sent_answered_and_told_to_both,
    friends::asking_back_accepts_and_removal_is_told_to_both,
    friends::crossing_requests_on_two_nodes_end_as_one_friendship,
    groups::groups_are_created_renamed_and_listed_with_events,
    groups::members_are_added_removed_and_the_owner_hands_over,
    groups::a_group_holds_500_and_fans_out_one_copy_per_member_at_its_own_seq,
    groups::concurrent_fan_outs_to_overlapping_members_neither_deadlock_nor_leave_gaps,
    groups::concurrent_duplicates_of_a_group_message_store_it_once,
    notices::notices_follow_audience_publish_recall_and_the_cursor,
    notices::a_full_page_ends_at_its_last_row,
    notices::concurrent_notice_writers_never_let_a_reader_skip_a_change,
    media::media_insert_keeps_the_first_row,
}
