//! The index schema. Message text is indexed but not stored: the caller has it in SQLite and
//! makes snippets from it, which keeps the index well under 1.5× the raw text.

use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
    FAST,
};

use crate::tokenizer::TOKENIZER_NAME;

/// Bump when the tokenizer or the schema changes: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub id: Field,
    pub id_hash: Field,
    pub conversation_id: Field,
    pub sender: Field,
    pub sent_at: Field,
    pub text: Field,
}

pub(crate) const ID: &str = "id";
pub(crate) const ID_HASH: &str = "id_hash";
pub(crate) const CONVERSATION_ID: &str = "conversation_id";
pub(crate) const SENDER: &str = "sender";
pub(crate) const SENT_AT: &str = "sent_at";
pub(crate) const TEXT: &str = "text";

pub(crate) fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // The id as a compact key (see idkey), fast for reading hits back; its hash, indexed, for
    // deletes.
    let id = builder.add_bytes_field(ID, BytesOptions::default().set_fast());
    let id_hash = builder.add_u64_field(ID_HASH, NumericOptions::default().set_indexed());
    // Raw strings: indexed for filters, fast for reading hits back; no norms (never scored).
    let raw = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
        .set_fast("raw");
    let conversation_id = builder.add_text_field(CONVERSATION_ID, raw.clone());
    let sender = builder.add_text_field(SENDER, raw);
    let sent_at = builder.add_i64_field(SENT_AT, FAST);
    let text = builder.add_text_field(
        TEXT,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    let fields = Fields {
        id,
        id_hash,
        conversation_id,
        sender,
        sent_at,
        text,
    };
    (builder.build(), fields)
}
