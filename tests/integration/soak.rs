//! Soak (issue 9): 10,000 messages among 50 real SDK clients on one real server, 1:1 and in
//! groups, sent concurrently at a bounded rate, with random connection cuts and client-side
//! reconnects throughout and one SIGKILL of the server in the middle (restarted on the same
//! data; the clients reconnect by themselves). At the end every message is in every store it
//! belongs to exactly once, nothing else is, and every two stores agree on the server's order.
//!
//! Seeded: the seed is printed; `HONGYAN_SOAK_SEED=<n>` replays a run's choices (timing
//! still differs). Rate limits stay at their defaults: the 50 clients share 127.0.0.1 and
//! stay within them (≈5 messages/s each; 100 logins at the start, reconnects after).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use hongyan_protocol::kinds;
use hongyan_sdk::{Client, ConnectionState, Message};
use hongyan_tests::{FaultProxy, TestClient, TestServer, Via};

const CLIENTS: usize = 50;
const MESSAGES: usize = 10_000;
/// Messages per second, all clients together.
const RATE: u64 = 250;
/// Clients behind one pair of proxies (HTTP + TCP): a cut breaks all of theirs at once.
const PER_PROXY: usize = 5;
const GROUPS: usize = 4;
/// Each client befriends these offsets (mod CLIENTS): four friends each.
const FRIEND_OFFSETS: [usize; 2] = [1, 7];
/// How long the end may take to settle (outboxes empty, stores complete).
const SETTLE: Duration = Duration::from_secs(60);

/// splitmix64: a seeded stream without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> u64 {
    match std::env::var("HONGYAN_SOAK_SEED") {
        Ok(s) => s.parse().expect("HONGYAN_SOAK_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos() as u64,
    }
}

/// A conversation of the soak: a friend pair or a group, with its members' indexes.
#[derive(Clone)]
struct Conv {
    /// Group id, or `None` for a 1:1 chat.
    group: Option<String>,
    members: Vec<usize>,
}

/// One sent message: who sent it, in which conversation, its fp.
struct Sent {
    from: usize,
    conv: usize,
    id: String,
}

/// The conversation id as `member` sees it.
fn conversation_id(conv: &Conv, member: usize, users: &[String]) -> String {
    match &conv.group {
        Some(g) => g.clone(),
        None => {
            let other = conv.members.iter().find(|&&m| m != member).expect("peer");
            users[*other].clone()
        }
    }
}

/// Every text message of `conversation` in `client`'s store, in its history order.
async fn texts(client: &Client, conversation: &str) -> Vec<Message> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = client
            .history(conversation, before.clone(), 500)
            .await
            .expect("history");
        let Some(last) = page.last() else { break };
        before = Some(last.cursor());
        all.extend(page.into_iter().filter(|m| m.typeu == kinds::TEXT));
    }
    all.reverse();
    all
}

async fn outbox_ids(client: &Client) -> Vec<String> {
    let store = client.store().await.expect("store");
    store
        .call(|s| s.outbox())
        .await
        .expect("outbox")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Waits until none of `pending` (the outboxes' messages at the kill) is unacknowledged
/// any more: their senders reconnected to the restarted server and it took them. Returns
/// the time since `killed`.
async fn caught_up_after(
    killed: Instant,
    sdk: Vec<Client>,
    mut pending: HashSet<String>,
) -> Duration {
    loop {
        let mut left = HashSet::new();
        for c in &sdk {
            left.extend(
                outbox_ids(c)
                    .await
                    .into_iter()
                    .filter(|id| pending.contains(id)),
            );
        }
        pending = left;
        if pending.is_empty() {
            return killed.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn all_connected(clients: &[Client]) -> bool {
    clients
        .iter()
        .all(|c| c.connection_state() == ConnectionState::Connected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_10k_messages_50_clients_disconnects_and_a_server_kill() {
    let seed = seed();
    println!("soak seed {seed} (replay with HONGYAN_SOAK_SEED={seed})");
    let mut rng = Rng(seed);
    let started = Instant::now();

    let mut server = TestServer::start().await;
    let mut proxies = Vec::new();
    for _ in 0..CLIENTS / PER_PROXY {
        let http = FaultProxy::start(server.http_addr()).await;
        let tcp = FaultProxy::start(server.tcp_addr()).await;
        proxies.push((http, tcp));
    }
    // Registrations a few at a time: the server hashes each password (2 cores), and a
    // client gives up on an HTTP request after 10 s.
    let mut clients: Vec<TestClient> = futures_util::stream::iter((0..CLIENTS).map(|i| {
        let (http, tcp) = &proxies[i / PER_PROXY];
        let via = if i % 2 == 0 { Via::Ws } else { Via::Tcp };
        let (url, tcp) = (http.url(), tcp.addr().to_string());
        async move { TestClient::register_at(&url, &tcp, &format!("soak{i:02}"), via).await }
    }))
    .buffered(4)
    .collect()
    .await;
    let users: Vec<String> = clients.iter().map(|c| c.user_id.clone()).collect();

    // Friends: a ring and a chord; groups: a creator and its four friends.
    let mut convs = Vec::new();
    for i in 0..CLIENTS {
        for off in FRIEND_OFFSETS {
            convs.push(Conv {
                group: None,
                members: vec![i, (i + off) % CLIENTS],
            });
        }
    }
    futures_util::future::join_all(
        convs
            .iter()
            .map(|c| clients[c.members[0]].befriend(&clients[c.members[1]])),
    )
    .await;
    for g in 0..GROUPS {
        let owner = g * (CLIENTS / GROUPS);
        let mut members = vec![owner];
        for off in FRIEND_OFFSETS {
            members.push((owner + off) % CLIENTS);
            members.push((owner + CLIENTS - off) % CLIENTS);
        }
        let others: Vec<String> = members[1..].iter().map(|&m| users[m].clone()).collect();
        let group = clients[owner]
            .client
            .create_group(&format!("soak group {g}"), &others)
            .await
            .expect("create group");
        convs.push(Conv {
            group: Some(group.group_id),
            members,
        });
    }
    for c in &mut clients {
        c.wait_connected().await;
    }
    let setup = started.elapsed();
    let sdk: Vec<Client> = clients.iter().map(|c| c.client.clone()).collect();

    // The plan, drawn up front from the seed: (sender, conversation) per message; one in ten
    // goes to a group.
    let groups: Vec<usize> = (0..convs.len())
        .filter(|&c| convs[c].group.is_some())
        .collect();
    let pairs = convs.len() - groups.len();
    let plan: Vec<(usize, usize)> = (0..MESSAGES)
        .map(|_| {
            let conv = if rng.below(10) == 0 {
                groups[rng.below(groups.len())]
            } else {
                rng.below(pairs)
            };
            let members = &convs[conv].members;
            (members[rng.below(members.len())], conv)
        })
        .collect();
    // Disconnects: every 300–900 ms, a proxy pair's cut (its five clients) or one client
    // dropping its own link.
    let faults: Vec<(u64, Option<usize>, usize)> = (0..200)
        .map(|_| {
            let wait = 300 + rng.below(600) as u64;
            if rng.below(2) == 0 {
                (wait, Some(rng.below(proxies.len())), 0)
            } else {
                (wait, None, rng.below(CLIENTS))
            }
        })
        .collect();

    // Send at RATE, each send its own task (the SDK takes them concurrently).
    let issued = Arc::new(AtomicU64::new(0));
    let sender = {
        let (sdk, users, convs, issued) =
            (sdk.clone(), users.clone(), convs.clone(), issued.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut tasks = tokio::task::JoinSet::new();
            for (n, (from, conv)) in plan.into_iter().enumerate() {
                tick.tick().await;
                let client = sdk[from].clone();
                let to = conversation_id(&convs[conv], from, &users);
                tasks.spawn(async move {
                    let m = client
                        .send_text(&to, &format!("soak #{n} from {from}"))
                        .await
                        .expect("send_text");
                    Sent {
                        from,
                        conv,
                        id: m.id,
                    }
                });
                issued.fetch_add(1, Ordering::SeqCst);
            }
            let mut sent = Vec::new();
            while let Some(s) = tasks.join_next().await {
                sent.push(s.expect("send task"));
            }
            sent
        })
    };

    // Faults while sending; the kill when half the messages are out.
    let mut disconnects = 0usize;
    let mut cuts = 0usize;
    let mut faults = faults.into_iter();
    let mut killed_at = None;
    let mut catch_up = None;
    let mut unacked_at_faults = 0usize;
    while issued.load(Ordering::SeqCst) < MESSAGES as u64 {
        if killed_at.is_none() && issued.load(Ordering::SeqCst) >= MESSAGES as u64 / 2 {
            let mut pending = HashSet::new();
            for c in &sdk {
                pending.extend(outbox_ids(c).await);
            }
            unacked_at_faults += pending.len();
            let at = Instant::now();
            server.kill().await;
            server.restart().await;
            println!("soak: server killed and restarted in {:?}", at.elapsed());
            killed_at = Some(at);
            catch_up = Some(tokio::spawn(caught_up_after(at, sdk.clone(), pending)));
            continue;
        }
        let Some((wait, proxy, client)) = faults.next() else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match proxy {
            Some(p) => {
                let (http, tcp) = &proxies[p];
                for c in &sdk[p * PER_PROXY..(p + 1) * PER_PROXY] {
                    unacked_at_faults += outbox_ids(c).await.len();
                }
                http.cut_all();
                tcp.cut_all();
                cuts += 1;
                disconnects += PER_PROXY;
            }
            None => {
                unacked_at_faults += outbox_ids(&sdk[client]).await.len();
                // The client drops its own link (as after a network change) and logs in again.
                let _ = sdk[client].reconnect_now().await;
                disconnects += 1;
            }
        }
    }
    let killed_at = killed_at.expect("the server was killed");
    let after_kill = catch_up
        .expect("the server was killed")
        .await
        .expect("catch-up watcher");
    let sent = sender.await.expect("sender");
    let sending = started.elapsed() - setup;
    assert_eq!(sent.len(), MESSAGES);

    // Settle: everyone connected, every outbox empty, every store as complete as the plan.
    let mut expected: Vec<HashMap<String, HashSet<String>>> = vec![HashMap::new(); CLIENTS];
    for s in &sent {
        for &m in &convs[s.conv].members {
            expected[m]
                .entry(conversation_id(&convs[s.conv], m, &users))
                .or_default()
                .insert(s.id.clone());
        }
    }
    let deadline = Instant::now() + SETTLE;
    let mut settled = None;
    loop {
        let mut done = all_connected(&sdk);
        if done {
            for c in &sdk {
                if !outbox_ids(c).await.is_empty() {
                    done = false;
                    break;
                }
            }
        }
        if done {
            for (i, c) in sdk.iter().enumerate() {
                let _ = c.sync_now().await;
                for (conv, ids) in &expected[i] {
                    if texts(c, conv).await.len() < ids.len() {
                        done = false;
                        break;
                    }
                }
                if !done {
                    break;
                }
            }
        }
        if done {
            settled = Some(killed_at.elapsed());
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The checks: exactly the expected messages, each once, on every side of every
    // conversation; every received message has its mailbox seq; any two sides agree on
    // the order of what both know the seq of.
    let sender_of: HashMap<&str, usize> = sent.iter().map(|s| (s.id.as_str(), s.from)).collect();
    let mut compared_pairs = 0usize;
    for (k, conv) in convs.iter().enumerate() {
        let mut sides: BTreeMap<usize, Vec<Message>> = BTreeMap::new();
        for &m in &conv.members {
            let got = texts(&sdk[m], &conversation_id(conv, m, &users)).await;
            let ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
            let unique: HashSet<&str> = ids.iter().copied().collect();
            assert_eq!(
                unique.len(),
                ids.len(),
                "seed {seed}: a message is duplicated in client {m}'s conversation {k}"
            );
            let want: HashSet<&str> = expected[m]
                .get(&conversation_id(conv, m, &users))
                .map(|s| s.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let lost: Vec<&&str> = want.difference(&unique).take(5).collect();
            let extra: Vec<&&str> = unique.difference(&want).take(5).collect();
            assert!(
                lost.is_empty() && extra.is_empty(),
                "seed {seed}: client {m}, conversation {k}: {} lost (e.g. {lost:?}), {} extra (e.g. {extra:?})",
                want.difference(&unique).count(),
                unique.difference(&want).count(),
            );
            for msg in &got {
                let from = sender_of[msg.id.as_str()];
                assert_eq!(
                    (msg.from.as_str(), msg.outgoing),
                    (users[from].as_str(), from == m),
                    "seed {seed}: message {} has the wrong sender in client {m}'s store",
                    msg.id
                );
            }
            for msg in got.iter().filter(|x| !x.outgoing) {
                assert!(
                    msg.seq.is_some(),
                    "seed {seed}: received message {} has no seq",
                    msg.id
                );
            }
            sides.insert(m, got);
        }
        let ordered: Vec<(usize, Vec<String>)> = sides
            .iter()
            .map(|(&m, msgs)| {
                let mut with_seq: Vec<&Message> = msgs.iter().filter(|x| x.seq.is_some()).collect();
                with_seq.sort_by_key(|x| x.seq);
                assert!(
                    with_seq.windows(2).all(|w| w[0].seq < w[1].seq),
                    "seed {seed}: two messages share a seq in client {m}'s conversation {k}"
                );
                (m, with_seq.into_iter().map(|x| x.id.clone()).collect())
            })
            .collect();
        for (a, (ma, oa)) in ordered.iter().enumerate() {
            for (mb, ob) in &ordered[a + 1..] {
                let in_b: HashSet<&String> = ob.iter().collect();
                let in_a: HashSet<&String> = oa.iter().collect();
                let a_common: Vec<&String> = oa.iter().filter(|x| in_b.contains(x)).collect();
                let b_common: Vec<&String> = ob.iter().filter(|x| in_a.contains(x)).collect();
                assert_eq!(
                    a_common, b_common,
                    "seed {seed}: clients {ma} and {mb} order conversation {k} differently"
                );
                compared_pairs += a_common.len();
            }
        }
    }
    let settled = settled.expect("every client caught up within the settle time");
    let resent = unacked_at_faults;
    println!(
        "soak: seed {seed}: {MESSAGES} messages among {CLIENTS} clients ({} conversations) in {sending:.1?} \
         (setup {setup:.1?}, total {:.1?}); {disconnects} client disconnects ({cuts} proxy cuts), \
         1 server kill; {resent} messages unacknowledged at a fault (resent); \
         kill → every message that was in an outbox at the kill acknowledged {after_kill:.1?} (kill → all settled at the end {settled:.1?}); {compared_pairs} ordered pairs compared",
        convs.len(),
        started.elapsed(),
    );
}
