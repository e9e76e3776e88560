//! `hongyan-server admin …` (the binary's operator commands): `create-user` writes through
//! the server's own store (SQLite in the data dir, which WAL and a busy timeout let it share
//! with a running server, or the deployment's PostgreSQL with `--postgres`); `release` works
//! on the releases dir (docs/UPDATES.md); the rest log in as an administrator and call the
//! admin HTTP API of a running server. Results are printed as JSON on stdout.

use anyhow::{bail, Context, Result};
use hongyan_protocol::api::{Audience, CreateNotice};
use hongyan_server::{
    accounts,
    config::{resolve_data_dir, AdminAction, AdminArgs, BroadcastAction, ReleaseAction},
    open_store,
    releases::{PublishRequest, ReleasesDir},
    Store,
};
use serde_json::{json, Value};

pub async fn run(args: AdminArgs) -> Result<()> {
    let out = match args.action {
        AdminAction::CreateUser {
            data_dir,
            postgres,
            username,
            password,
            nickname,
            admin,
        } => {
            let dir = resolve_data_dir(data_dir).map_err(anyhow::Error::msg)?;
            let store = open_store(postgres.as_deref(), &dir)
                .await
                .context("opening the store")?;
            create_user(store, username, password, nickname, admin).await?
        }
        AdminAction::Release { action } => release(action).await?,
        AdminAction::Sessions => {
            let api = Api::login(&args.server, args.username, args.password).await?;
            api.call(reqwest::Method::GET, "/api/v1/admin/sessions", None)
                .await?
        }
        AdminAction::Broadcast { action } => {
            let api = Api::login(&args.server, args.username, args.password).await?;
            match action {
                BroadcastAction::Create {
                    title,
                    body,
                    audience,
                } => {
                    let audience = audience.map_or(Audience::All, Audience::Users);
                    let body = serde_json::to_value(CreateNotice {
                        title,
                        body,
                        audience,
                    })?;
                    api.call(
                        reqwest::Method::POST,
                        "/api/v1/admin/broadcasts",
                        Some(body),
                    )
                    .await?
                }
                BroadcastAction::Publish { id } => {
                    let path = format!("/api/v1/admin/broadcasts/{id}/publish");
                    api.call(reqwest::Method::POST, &path, None).await?
                }
                BroadcastAction::Recall { id } => {
                    let path = format!("/api/v1/admin/broadcasts/{id}");
                    api.call(reqwest::Method::DELETE, &path, None).await?;
                    json!({"id": id, "recalled": true})
                }
                BroadcastAction::List => {
                    api.call(reqwest::Method::GET, "/api/v1/admin/broadcasts", None)
                        .await?
                }
            }
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Creates the account in `store` (closed afterwards, whatever the outcome).
async fn create_user(
    store: Store,
    username: String,
    password: String,
    nickname: Option<String>,
    admin: bool,
) -> Result<Value> {
    accounts::validate_username(&username).map_err(anyhow::Error::msg)?;
    accounts::validate_password(&password).map_err(anyhow::Error::msg)?;
    let nickname = nickname
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| username.clone());
    accounts::validate_nickname(&nickname).map_err(anyhow::Error::msg)?;
    let hash = accounts::hash_password(&password).map_err(anyhow::Error::msg)?;
    let created = store.create_user(username.clone(), nickname, hash).await;
    let result = match created {
        Ok(id) => {
            if admin {
                store.set_admin(id, true).await?;
            }
            Ok(json!({"user_id": id.to_string(), "username": username, "admin": admin}))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("creating user {username}"))),
    };
    store.close().await;
    result
}

/// `admin release publish|list`: file work, run off the async runtime. A refusal is one
/// line (the error's message already names its cause).
async fn release(action: ReleaseAction) -> Result<Value> {
    let one_line = |e: hongyan_server::releases::ReleaseError| anyhow::Error::msg(e.to_string());
    tokio::task::spawn_blocking(move || match action {
        ReleaseAction::Publish {
            bundle,
            signature,
            version,
            target,
            notes,
            pubkey,
            dir,
        } => {
            let dir = ReleasesDir::at(dir.resolve().map_err(anyhow::Error::msg)?);
            let req = PublishRequest {
                bundle,
                signature,
                version,
                target,
                notes,
                pubkey,
            };
            let published = dir
                .publish(&req, std::time::SystemTime::now())
                .map_err(one_line)?;
            Ok(serde_json::to_value(published)?)
        }
        ReleaseAction::List { dir } => {
            let dir = ReleasesDir::at(dir.resolve().map_err(anyhow::Error::msg)?);
            let listed: Vec<Value> = dir
                .list()
                .map_err(one_line)?
                .into_iter()
                .map(|p| {
                    json!({
                        "target": p.target,
                        "version": p.release.version,
                        "pub_date": p.release.pub_date,
                        "size": p.release.size,
                        "file": p.release.file,
                    })
                })
                .collect();
            Ok(Value::Array(listed))
        }
    })
    .await?
}

/// A logged-in admin API client.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn login(
        server: &str,
        username: Option<String>,
        password: Option<String>,
    ) -> Result<Self> {
        let (Some(username), Some(password)) = (username, password) else {
            bail!("this command calls the admin API: pass --username and --password of an administrator");
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let base = server.trim_end_matches('/').to_owned();
        let resp = http
            .post(format!("{base}/api/v1/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .with_context(|| format!("cannot reach {base}"))?;
        let body = answer(resp).await.context("login failed")?;
        let token = body["token"]
            .as_str()
            .context("the login answer has no token")?
            .to_owned();
        Ok(Self { http, base, token })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        answer(req.send().await?).await
    }
}

/// The JSON of a successful answer; an error with the server's message otherwise.
async fn answer(resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let text = resp.text().await?;
    let body: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    if !status.is_success() {
        let msg = body["error"]["message"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        bail!("{status}: {msg}");
    }
    Ok(body)
}
