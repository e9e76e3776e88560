//! Media records.

use crate::Nodes;

pub async fn media_insert_keeps_the_first_row(store: &Nodes) {
    let sha = "ab".repeat(32);
    assert_eq!(store.media(sha.clone()).await.expect("read"), None);
    store
        .insert_media(sha.clone(), "image/png".into(), 123, 10001)
        .await
        .expect("insert");
    // Another node records the same file again: the first row stays.
    store
        .other_node()
        .insert_media(sha.clone(), "image/jpeg".into(), 999, 10002)
        .await
        .expect("again");
    let rec = store.media(sha.clone()).await.expect("read").expect("row");
    assert_eq!(
        (
            rec.sha256.as_str(),
            rec.mime.as_str(),
            rec.size,
            rec.uploader
        ),
        (sha.as_str(), "image/png", 123, 10001)
    );
    assert!(rec.created_at > 0);
    let big = "cd".repeat(32);
    store
        .insert_media(big.clone(), "video/mp4".into(), 5 << 30, 10003)
        .await
        .expect("insert");
    let rec = store.media(big).await.expect("read").expect("row");
    assert_eq!((rec.size, rec.uploader), (5 << 30, 10003));
    assert_eq!(store.media("ef".repeat(32)).await.expect("read"), None);
}
