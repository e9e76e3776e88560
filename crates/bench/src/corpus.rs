//! A deterministic corpus of chat messages mixing Chinese and English, for the search
//! benchmark: the same seed gives the same messages on every machine and every version (the
//! generator is a fixed SplitMix64, not a library RNG whose algorithm may change).
//!
//! Shapes: mostly short chats (1–8 words), some medium, a few long paragraphs; about half
//! Chinese, a third English, the rest mixed in one message; word frequencies skewed like real
//! text (a few words very common, most rare); occasional emoji and punctuation.

use hongyan_search::{is_cjk, tokenize};

/// The seed the benchmark uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 0x4859_5345_4152_4348; // "HYSEARCH"

#[rustfmt::skip]
const ZH_WORDS: &[&str] = &[
    "消息", "我们", "你好", "今天", "明天", "晚上", "时间", "已经", "可以", "没有", "知道", "现在", "什么", "怎么", "为什么",
    "这个", "那个", "一下", "一起", "吃饭", "开会", "项目", "服务器", "客户端", "推送", "离线", "在线", "同步", "发送", "收到",
    "回复", "文件", "图片", "视频", "语音", "表情", "群聊", "好友", "通知", "设置", "账号", "密码", "登录", "退出", "网络", "连接",
    "断开", "重连", "心跳", "协议", "机制", "可靠", "送达", "已读", "未读", "撤回", "删除", "搜索", "索引", "历史", "记录", "聊天",
    "窗口", "桌面", "应用", "版本", "更新", "下载", "上传", "压缩", "速度", "性能", "测试", "问题", "解决", "方案", "需求", "设计",
    "文档", "代码", "提交", "合并", "分支", "发布", "上线", "周末", "休息", "加班", "出差", "北京", "上海", "深圳", "杭州", "广州",
    "成都", "天气", "下雨", "晴天", "咖啡", "奶茶", "火锅", "电影", "周五", "周一", "早上", "中午", "下午", "马上", "稍等", "谢谢",
    "不客气", "好的", "收到了", "没问题", "辛苦了", "哈哈", "真的", "可能", "应该", "需要", "希望", "觉得", "看看", "准备", "开始",
    "结束", "完成", "进度", "计划", "安排", "会议室", "老板", "同事", "朋友", "家人", "生日", "快乐", "礼物", "红包", "转账",
    "付款", "订单", "快递", "地址", "电话", "号码", "邮件", "微信", "手机", "电脑", "键盘", "屏幕", "电池", "充电", "鸿雁", "传书",
    "数据库", "缓存", "队列", "延迟", "超时", "重试", "失败", "成功", "错误", "日志", "监控", "报警", "内存", "磁盘", "线程",
    "并发", "异步", "接口", "字段", "参数", "用户", "权限", "安全", "加密", "证书", "域名", "端口", "负载", "均衡", "集群", "节点",
    "备份", "恢复", "迁移", "升级", "兼容", "配置", "环境", "部署", "容器", "镜像", "脚本", "学习", "考试", "学校", "老师", "学生",
    "医院", "医生", "身体", "健康", "运动", "跑步", "游泳", "旅游", "机票", "酒店", "高铁", "地铁", "公交", "打车", "堵车", "迟到",
    "抱歉", "明白", "了解", "确认", "取消", "修改", "保存", "打开", "关闭", "复制", "粘贴", "分享", "的", "了", "是", "在",
    "有", "和", "也", "就", "都", "还", "吗", "吧", "呢", "啊", "很", "不", "要", "去", "来", "说", "看", "想", "做",
    "给", "让", "把", "被", "从", "到", "对",
];

#[rustfmt::skip]
const EN_WORDS: &[&str] = &[
    "the", "a", "to", "is", "it", "and", "of", "you", "i", "we", "in", "on", "for", "that", "this",
    "with", "be", "are", "was", "have", "not", "can", "will", "just", "so", "ok", "message",
    "messages", "delivered", "delivery", "deliver", "server", "servers", "client", "offline",
    "online", "sync", "syncing", "push", "notification", "notifications", "send", "sending",
    "sent", "received", "reply", "file", "image", "photo", "video", "voice", "sticker", "group",
    "friend", "friends", "settings", "account", "password", "login", "logout", "network",
    "connection", "connected", "reconnect", "heartbeat", "protocol", "reliable", "read", "unread",
    "recall", "delete", "search", "index", "history", "chat", "window", "desktop", "app",
    "version", "update", "download", "upload", "compress", "speed", "performance", "test", "tests",
    "testing", "issue", "bug", "fix", "fixed", "solution", "design", "document", "docs", "code",
    "commit", "merge", "branch", "release", "deploy", "weekend", "meeting", "lunch", "dinner",
    "coffee", "tea", "tomorrow", "today", "tonight", "morning", "afternoon", "evening", "later",
    "soon", "now", "thanks", "thank", "sorry", "please", "sure", "yes", "no", "maybe", "great",
    "good", "nice", "cool", "fine", "busy", "free", "call", "phone", "email", "address", "order",
    "package", "shipping", "payment", "invoice", "budget", "plan", "schedule", "deadline",
    "project", "team", "manager", "customer", "feedback", "review", "approve", "approved",
    "database", "cache", "queue", "latency", "timeout", "retry", "failed", "success", "error",
    "errors", "log", "logs", "monitor", "alert", "memory", "disk", "thread", "concurrency",
    "async", "api", "field", "parameter", "user", "users", "permission", "security", "encryption",
    "certificate", "domain", "port", "cluster", "node", "backup", "restore", "migration",
    "upgrade", "config", "environment", "container", "script", "beijing", "shanghai", "shenzhen",
    "flight", "hotel", "train", "taxi", "traffic", "late", "happy", "birthday", "gift", "travel",
    "weather", "rain", "sunny", "movie", "music", "game", "running", "swimming", "doctor",
    "school", "teacher", "student", "exam", "learning", "holiday", "mobileimsdk", "qos",
    "websocket", "tcp", "udp", "json", "sqlite", "tantivy", "rust", "react", "tauri", "linux",
    "windows", "macos", "android", "ios", "v6", "2024", "2025", "100", "42", "café", "naïve",
    "résumé",
];

#[rustfmt::skip]
const EMOJI: &[&str] = &[
    "😀", "😂", "👍", "🙏", "🎉", "❤️", "😅", "🤔", "✅", "🔥",
];
#[rustfmt::skip]
const ZH_PUNCT: &[&str] = &[
    "，", "。", "！", "？", "、", "～",
];
#[rustfmt::skip]
const EN_PUNCT: &[&str] = &[
    ",", ".", "!", "?", "...", ":",
];

/// SplitMix64: tiny, fast, and fixed forever.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Skewed towards small indices (word frequencies: a few common, most rare).
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * u) * n as f64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One generated message.
#[derive(Clone, Debug)]
pub struct Message {
    /// A UUIDv7-shaped id (36 chars), unique and increasing with `sent_at`.
    pub id: String,
    pub conversation_id: String,
    pub sender: String,
    pub sent_at: i64,
    pub text: String,
}

/// The generator: `Corpus::new(seed).take(n)` gives the first `n` messages.
pub struct Corpus {
    rng: Rng,
    counter: u64,
    now_ms: i64,
}

impl Corpus {
    pub fn new(seed: u64) -> Self {
        Corpus {
            rng: Rng::new(seed),
            counter: 0,
            // 2023-01-01T00:00:00Z
            now_ms: 1_672_531_200_000,
        }
    }

    fn zh_word(&mut self) -> &'static str {
        ZH_WORDS[self.rng.skewed(ZH_WORDS.len())]
    }

    fn en_word(&mut self) -> &'static str {
        EN_WORDS[self.rng.skewed(EN_WORDS.len())]
    }

    /// How many words: mostly short chats, some medium, a few long.
    fn length(&mut self) -> usize {
        let r = self.rng.unit();
        if r < 0.70 {
            1 + self.rng.below(8)
        } else if r < 0.95 {
            8 + self.rng.below(20)
        } else {
            28 + self.rng.below(100)
        }
    }

    fn text(&mut self) -> String {
        let words = self.length();
        let style = self.rng.unit();
        let mut out = String::new();
        // Within a message, 0 = Chinese, 1 = English; mixed messages switch now and then.
        let mut english = (0.5..0.83).contains(&style);
        let mixed = style >= 0.83;
        for i in 0..words {
            if mixed && self.rng.unit() < 0.3 {
                english = !english;
                if english && !out.is_empty() && self.rng.unit() < 0.5 {
                    out.push(' ');
                }
            }
            if english {
                if i > 0 && !out.ends_with(' ') && !out.is_empty() {
                    let last = out.chars().last().unwrap_or(' ');
                    if last.is_ascii_alphanumeric() || self.rng.unit() < 0.5 {
                        out.push(' ');
                    }
                }
                let word = self.en_word();
                if i == 0 && self.rng.unit() < 0.5 {
                    let mut chars = word.chars();
                    if let Some(c) = chars.next() {
                        out.extend(c.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                } else {
                    out.push_str(word);
                }
                if self.rng.unit() < 0.08 {
                    out.push_str(self.rng.pick(EN_PUNCT));
                    out.push(' ');
                }
            } else {
                if out.ends_with(|c: char| c.is_ascii_alphanumeric()) && self.rng.unit() < 0.5 {
                    out.push(' ');
                }
                out.push_str(self.zh_word());
                if self.rng.unit() < 0.12 {
                    out.push_str(self.rng.pick(ZH_PUNCT));
                }
            }
        }
        if self.rng.unit() < 0.1 {
            out.push_str(self.rng.pick(EMOJI));
        }
        out.trim().to_string()
    }
}

impl Iterator for Corpus {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        self.counter += 1;
        // Chats come in bursts: mostly seconds apart, sometimes hours.
        self.now_ms += if self.rng.unit() < 0.9 {
            1 + self.rng.below(30_000) as i64
        } else {
            1 + self.rng.below(3_600_000) as i64
        };
        let rand_a = self.rng.next_u64();
        let id = format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            (self.now_ms >> 16) as u32,
            (self.now_ms & 0xFFFF) as u16,
            (self.counter & 0xFFF) as u16,
            0x8000 | (rand_a >> 48) as u16 & 0x3FFF,
            rand_a & 0xFFFF_FFFF_FFFF,
        );
        let conversation_id = format!("conv-{}", self.rng.skewed(2_000));
        let sender = format!("user-{}", self.rng.skewed(5_000));
        let text = self.text();
        Some(Message {
            id,
            conversation_id,
            sender,
            sent_at: self.now_ms,
            text,
        })
    }
}

/// What a query must find: defined on the text itself, independent of any engine.
#[derive(Clone, Debug)]
pub enum Need {
    /// A CJK substring.
    Substring(String),
    /// A whole word (as the project's tokenizer splits and folds words).
    Word(String),
    /// A word starting with this.
    Prefix(String),
}

impl Need {
    /// Whether `text`, whose folded words are `words` ([`folded_words`]), satisfies this.
    pub fn matches(&self, text: &str, words: &str) -> bool {
        match self {
            Need::Substring(s) => text.contains(s.as_str()),
            Need::Word(w) => words.split(' ').any(|t| t == w),
            Need::Prefix(p) => words.split(' ').any(|t| t.starts_with(p.as_str())),
        }
    }
}

/// A message's non-CJK words as the tokenizer folds them (`Café` → `cafe`), space-separated:
/// a word query must find exactly the messages with that word, whatever the engine.
pub fn folded_words(text: &str) -> String {
    tokenize(text)
        .into_iter()
        .filter(|t| !t.text.chars().any(is_cjk))
        .map(|t| t.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One class of queries (e.g. 2-char CJK) the benchmarks time and check.
pub struct QuerySet {
    pub name: &'static str,
    /// (query text, what it must find)
    pub queries: Vec<(String, Vec<Need>)>,
}

/// The query sets, `n` queries each, drawn from the corpus itself (so most have matches),
/// deterministic: 1-char CJK, 2-char CJK, 4-char CJK, English word, English prefix, two terms.
pub fn query_sets(corpus: &[Message], n: usize, seed: u64) -> Vec<QuerySet> {
    let mut rng = Rng::new(seed ^ 0x0051_5545_5259);
    let cjk_substring = |rng: &mut Rng, len: usize| -> String {
        loop {
            let m = &corpus[rng.below(corpus.len())];
            let chars: Vec<char> = m.text.chars().collect();
            if chars.len() < len {
                continue;
            }
            let start = rng.below(chars.len() - len + 1);
            let piece = &chars[start..start + len];
            if piece.iter().all(|c| is_cjk(*c)) {
                return piece.iter().collect();
            }
        }
    };
    // English words as the tokenizer sees them, taken from messages.
    let english_word = |rng: &mut Rng, min_len: usize| -> String {
        loop {
            let m = &corpus[rng.below(corpus.len())];
            let words: Vec<String> = tokenize(&m.text)
                .into_iter()
                .map(|t| t.text)
                .filter(|w| w.len() >= min_len && w.bytes().all(|b| b.is_ascii_lowercase()))
                .collect();
            if !words.is_empty() {
                return words[rng.below(words.len())].clone();
            }
        }
    };
    let mut set = |name, make: &mut dyn FnMut(&mut Rng) -> (String, Vec<Need>)| QuerySet {
        name,
        queries: (0..n).map(|_| make(&mut rng)).collect(),
    };
    vec![
        set("1-char CJK", &mut |r| {
            let q = cjk_substring(r, 1);
            (q.clone(), vec![Need::Substring(q)])
        }),
        set("2-char CJK", &mut |r| {
            let q = cjk_substring(r, 2);
            (q.clone(), vec![Need::Substring(q)])
        }),
        set("4-char CJK", &mut |r| {
            let q = cjk_substring(r, 4);
            (q.clone(), vec![Need::Substring(q)])
        }),
        set("English word", &mut |r| {
            let w = english_word(r, 3);
            // A trailing space: the word is complete (not a prefix).
            (format!("{w} "), vec![Need::Word(w)])
        }),
        set("English prefix", &mut |r| {
            let w = english_word(r, 5);
            let p: String = w.chars().take(3 + r.below(w.len() - 3)).collect();
            (p.clone(), vec![Need::Prefix(p)])
        }),
        set("two terms (word + 2-char CJK)", &mut |r| {
            let w = english_word(r, 3);
            let c = cjk_substring(r, 2);
            (format!("{w} {c}"), vec![Need::Word(w), Need::Substring(c)])
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_corpus() {
        let a: Vec<Message> = Corpus::new(DEFAULT_SEED).take(200).collect();
        let b: Vec<Message> = Corpus::new(DEFAULT_SEED).take(200).collect();
        assert_eq!(
            a.iter().map(|m| (&m.id, &m.text)).collect::<Vec<_>>(),
            b.iter().map(|m| (&m.id, &m.text)).collect::<Vec<_>>()
        );
        let c: Vec<Message> = Corpus::new(DEFAULT_SEED + 1).take(200).collect();
        assert_ne!(a[0].text, c[0].text);
    }

    #[test]
    fn needs_match_substrings_whole_folded_words_and_prefixes() {
        let text = "The Café delivered 离线消息推送";
        let words = folded_words(text);
        assert_eq!(words, "the cafe delivered");
        assert!(Need::Substring("消息".into()).matches(text, &words));
        assert!(!Need::Substring("消推".into()).matches(text, &words));
        assert!(Need::Word("cafe".into()).matches(text, &words));
        assert!(!Need::Word("deliver".into()).matches(text, &words));
        assert!(Need::Prefix("deliv".into()).matches(text, &words));
        assert!(!Need::Prefix("afe".into()).matches(text, &words));
    }

    #[test]
    fn query_sets_are_deterministic_and_drawn_from_the_corpus() {
        let corpus: Vec<Message> = Corpus::new(DEFAULT_SEED).take(2_000).collect();
        let (a, b) = (query_sets(&corpus, 5, 7), query_sets(&corpus, 5, 7));
        assert_eq!(a.len(), 6);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.name, y.name);
            let texts = |s: &QuerySet| s.queries.iter().map(|q| q.0.clone()).collect::<Vec<_>>();
            assert_eq!(texts(x), texts(y));
            assert_eq!(x.queries.len(), 5);
        }
        // A one-term query is taken from a message, so some message has it.
        for (query, needs) in a.iter().flat_map(|s| &s.queries).filter(|q| q.1.len() == 1) {
            assert!(
                corpus
                    .iter()
                    .any(|m| needs[0].matches(&m.text, &folded_words(&m.text))),
                "{query:?} matches nothing"
            );
        }
    }

    #[test]
    fn corpus_mixes_languages_and_lengths() {
        let msgs: Vec<Message> = Corpus::new(DEFAULT_SEED).take(5_000).collect();
        let zh = msgs
            .iter()
            .filter(|m| m.text.chars().any(|c| c > '\u{2E80}'))
            .count();
        let en = msgs
            .iter()
            .filter(|m| m.text.chars().any(|c| c.is_ascii_alphabetic()))
            .count();
        assert!(zh > 2_000 && en > 1_500, "zh {zh} en {en}");
        let long = msgs.iter().filter(|m| m.text.chars().count() > 100).count();
        let short = msgs.iter().filter(|m| m.text.chars().count() < 30).count();
        assert!(short > 2_500 && long > 50, "short {short} long {long}");
        let mut ids: Vec<&String> = msgs.iter().map(|m| &m.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), msgs.len(), "ids unique and increasing");
        assert!(msgs.windows(2).all(|w| w[0].sent_at < w[1].sent_at));
    }
}
