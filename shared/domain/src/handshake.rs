//! The server-to-server side of the handshake: what a PM endpoint does with
//! each message (seed 001's six steps). The recipient's provider never
//! believes a notice: it discovers the sender's endpoint itself and asks
//! *that* endpoint to deliver, with a single-use token it generated; the
//! sender's provider delivers only to the endpoint the recipient's identity
//! names.

use cloudim_protocol::identity::{hosted_account, hosted_identity, hosted_key_url, parse_endpoint, pm_endpoint, same_endpoint};
use cloudim_protocol::pm::{Decline, Delivered, Delivery, DeliveryRequest, Notice, PmMessage};
use cloudim_protocol::{AccountName, Identity, InvitationId, Origin, Tenant};

use crate::discovery::outbound_error;
use crate::{Conversation, Direction, Error, FeedUrlKey, HandshakeToken, Invitation, InvitationState, Provider, Token, TokenPurpose};

const BAD_TOKEN: &str = "the token is unknown, expired, already used or not issued for this invitation";

impl Provider {
    /// Sends a PM message; the reply body on 2xx. A 4xx answer becomes
    /// `Forbidden` with the remote's message, anything else `Upstream`.
    pub(crate) async fn send_pm(&self, endpoint: &str, msg: &PmMessage) -> Result<bytes::Bytes, Error> {
        let json = serde_json::to_string(msg).map_err(|e| Error::Upstream(e.to_string()))?;
        let reply = self.ports.federation.post_pm(endpoint, &json).await.map_err(outbound_error)?;
        if (200..300).contains(&reply.status) {
            return Ok(reply.body);
        }
        let said = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v["error"].as_str().map(|s| s.chars().take(300).collect::<String>()))
            .unwrap_or_else(|| format!("status {}", reply.status));
        let host = url::Url::parse(endpoint).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        if reply.status == 429 {
            Err(Error::RateLimited { message: format!("{host} refused: {said}"), retry_after: 3600 })
        } else if (400..500).contains(&reply.status) {
            Err(Error::Forbidden(format!("{host} refused: {said}")))
        } else {
            Err(Error::Upstream(format!("{host} failed: {said}")))
        }
    }

    /// Counts one event against an hourly limit.
    pub(crate) async fn limit(&self, tenant: &Tenant, key: String, max: u64, what: &str) -> Result<(), Error> {
        self.limit_window(tenant, key, max, 3600, &format!("too many {what}: at most {max} per hour")).await
    }

    /// Counts one event against a limit of `max` per `window_secs`; past
    /// it, answers [`Error::RateLimited`] with `message`.
    pub(crate) async fn limit_window(&self, tenant: &Tenant, key: String, max: u64, window_secs: u64, message: &str) -> Result<(), Error> {
        let now = self.ports.clock.now();
        let window = now - now % window_secs;
        let n = self.ports.handshake.count(tenant, &key, window, window + 2 * window_secs).await?;
        if n > max {
            return Err(Error::RateLimited { message: message.to_owned(), retry_after: window + window_secs - now });
        }
        Ok(())
    }

    fn issue(&self, purpose: TokenPurpose, account: &AccountName, peer: &Identity, invitation: &InvitationId, endpoint: &str) -> (Token, HandshakeToken) {
        let token = Token::generate();
        let now = self.ports.clock.now();
        let ttl = match purpose {
            TokenPurpose::Verify => self.settings.handshake.verify_token_ttl,
            TokenPurpose::Conversation => self.settings.handshake.conversation_token_ttl,
        };
        let record = HandshakeToken {
            hash: token.hash(),
            purpose,
            account: account.clone(),
            peer: peer.clone(),
            invitation: invitation.clone(),
            endpoint: endpoint.to_owned(),
            created_at: now,
            expires_at: now + ttl.as_secs(),
        };
        (token, record)
    }

    /// Any PM message arriving at this tenant's endpoint.
    pub async fn on_pm(&self, origin: &Origin, msg: PmMessage) -> Result<Option<Delivered>, Error> {
        match msg {
            PmMessage::Notice(n) => self.on_notice(origin, n).await.map(|()| None),
            PmMessage::Request(r) => self.on_request(origin, r).await.map(|()| None),
            PmMessage::Deliver(d) => self.on_deliver(origin, d).await.map(Some),
            PmMessage::Decline(d) => self.on_decline(origin, d).await.map(|()| None),
        }
    }

    /// Step 2 → 3: a notice. Verified by asking the sender's *discovered*
    /// endpoint to deliver; returns once the delivery arrived (or failed).
    /// A notice from an identity the recipient blocks is dropped silently.
    pub async fn on_notice(&self, origin: &Origin, n: Notice) -> Result<(), Error> {
        let tenant = origin.tenant();
        let not_here = || Error::NotFound(format!("{} is not an identity hosted here", n.to));
        let account = hosted_account(origin, &n.to).ok_or_else(not_here)?;
        if !self.account_exists(tenant, &account).await? {
            return Err(not_here());
        }
        if n.from == n.to {
            return Err(Error::invalid("an invitation cannot be from its recipient"));
        }
        if self.ports.handshake.is_blocked(tenant, &account, &n.from).await? {
            tracing::info!(tenant = %tenant, account = %account, "notice from a blocked identity dropped");
            return Ok(());
        }
        let per_provider = self.settings.handshake.notices_per_provider_hour;
        self.limit(tenant, format!("notice-from-{}", FeedUrlKey::of(n.from.as_str()).as_str()), self.settings.handshake.notices_per_identity_hour, "invitations from this identity").await?;
        // Many identities on one host are one sender: limited before we fetch anything.
        let from_host = format!("{}:{}", n.from.url().host_str().unwrap_or(""), n.from.url().port_or_known_default().unwrap_or(0));
        self.limit(tenant, format!("notice-host-{}", FeedUrlKey::of(&from_host).as_str()), per_provider, "invitations from this provider").await?;
        let endpoint = self.pm_endpoint_of(tenant, &n.from, true).await?;
        let provider = format!("{}:{}", endpoint.host_str().unwrap_or(""), endpoint.port_or_known_default().unwrap_or(0));
        if provider != from_host {
            self.limit(tenant, format!("notice-via-{}", FeedUrlKey::of(&provider).as_str()), per_provider, "invitations from this provider").await?;
        }

        let (token, record) = self.issue(TokenPurpose::Verify, &account, &n.from, &n.invitation, endpoint.as_str());
        self.ports.handshake.put_handshake_token(tenant, &record).await?;
        let request = PmMessage::Request(DeliveryRequest {
            invitation: n.invitation.clone(),
            from: n.from.clone(),
            to: n.to.clone(),
            endpoint: pm_endpoint(origin),
            token: token.expose().to_owned(),
        });
        if let Err(e) = self.send_pm(endpoint.as_str(), &request).await {
            self.ports.handshake.take_handshake_token(tenant, &record.hash).await?;
            return Err(match e {
                Error::Forbidden(m) => Error::Forbidden(format!("the sender's provider did not confirm the invitation: {m}")),
                other => other,
            });
        }
        Ok(())
    }

    /// Step 4: a request to deliver one of our invitations. Delivered only
    /// if the invitation exists, was addressed to `to`, is not delivered
    /// yet, and `to`'s identity names the requesting endpoint.
    pub async fn on_request(&self, origin: &Origin, r: DeliveryRequest) -> Result<(), Error> {
        let tenant = origin.tenant();
        let no_such = || Error::NotFound("there is no such invitation".into());
        let account = hosted_account(origin, &r.from).ok_or_else(no_such)?;
        let inv = self.ports.handshake.get_invitation(tenant, &account, &r.invitation).await?;
        let inv = inv.filter(|i| i.direction == Direction::Outgoing && i.peer == r.to).ok_or_else(no_such)?;
        if inv.state != InvitationState::Sent {
            return Err(Error::Conflict(format!("the invitation was already {}", inv.state.as_str())));
        }
        if Token::from_presented(&r.token).is_none() {
            return Err(Error::invalid("the token must be 16 to 128 printable characters"));
        }
        let requested = parse_endpoint(&r.endpoint).map_err(Error::invalid)?;
        let named = self.pm_endpoint_of(tenant, &r.to, true).await?;
        if !same_endpoint(&named, &requested) {
            tracing::warn!(tenant = %tenant, "delivery request from an endpoint the recipient does not name");
            return Err(Error::Forbidden(format!("{} names another PM endpoint than {requested}", r.to)));
        }
        let key = self.key_of(tenant, &account).await?.ok_or_else(|| Error::Conflict("the sender has no key".into()))?;
        let (ours, record) = self.issue(TokenPurpose::Conversation, &account, &r.to, &inv.id, requested.as_str());
        self.ports.handshake.put_handshake_token(tenant, &record).await?;
        let delivery = PmMessage::Deliver(Delivery {
            invitation: inv.id.clone(),
            token: r.token.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            feed: inv.feed_url.clone(),
            key: hosted_key_url(origin, &account),
            fingerprint: key.fingerprint.clone(),
            conversation_token: ours.expose().to_owned(),
            in_reply_to: inv.in_reply_to.clone(),
        });
        let body = match self.send_pm(requested.as_str(), &delivery).await {
            Ok(b) => b,
            Err(e) => {
                self.ports.handshake.take_handshake_token(tenant, &record.hash).await?;
                return Err(e);
            }
        };
        let delivered: Delivered = serde_json::from_slice(&body).map_err(|_| Error::Upstream("the recipient's provider answered without a conversation token".into()))?;
        if Token::from_presented(&delivered.conversation_token).is_none() {
            return Err(Error::Upstream("the recipient's provider answered with a malformed conversation token".into()));
        }
        let now = self.ports.clock.now();
        let updated = Invitation { state: InvitationState::Delivered, peer_token: Some(delivered.conversation_token), issued_token: Some(record.hash), updated_at: now, ..inv };
        self.ports.handshake.put_invitation(tenant, &updated).await?;
        tracing::info!(tenant = %tenant, account = %account, invitation = %updated.id, "invitation delivered");
        Ok(())
    }

    /// Step 5: the delivery, accepted only with the single-use token we
    /// issued for exactly this invitation, sender and recipient.
    pub async fn on_deliver(&self, origin: &Origin, d: Delivery) -> Result<Delivered, Error> {
        let tenant = origin.tenant();
        let hash = Token::from_presented(&d.token).ok_or_else(|| Error::Forbidden(BAD_TOKEN.into()))?.hash();
        let record = self.ports.handshake.take_handshake_token(tenant, &hash).await?.ok_or_else(|| Error::Forbidden(BAD_TOKEN.into()))?;
        let now = self.ports.clock.now();
        let recipient = hosted_identity(origin, &record.account).map_err(Error::invalid)?;
        let fits = record.hash.matches(&hash)
            && record.purpose == TokenPurpose::Verify
            && record.expires_at > now
            && record.invitation == d.invitation
            && record.peer == d.from
            && recipient == d.to;
        if !fits {
            tracing::warn!(tenant = %tenant, "refused a delivery whose credential does not fit the invitation");
            return Err(Error::Forbidden(BAD_TOKEN.into()));
        }
        let feed = parse_endpoint(&d.feed).map_err(|_| Error::invalid("feed must be an http(s) URL"))?;
        let key = parse_endpoint(&d.key).map_err(|_| Error::invalid("key must be an http(s) URL"))?;
        if Token::from_presented(&d.conversation_token).is_none() {
            return Err(Error::invalid("conversation_token must be 16 to 128 printable characters"));
        }
        let account = record.account;
        if self.ports.handshake.is_blocked(tenant, &account, &d.from).await? {
            // Indistinguishable from success, and nothing is stored.
            return Ok(Delivered { conversation_token: Token::generate().expose().to_owned() });
        }
        if self.ports.handshake.get_invitation(tenant, &account, &d.invitation).await?.is_some() {
            return Err(Error::Conflict("this invitation was already delivered".into()));
        }
        let original = match &d.in_reply_to {
            Some(id) => self
                .ports
                .handshake
                .get_invitation(tenant, &account, id)
                .await?
                .filter(|o| o.direction == Direction::Outgoing && o.peer == d.from && o.state == InvitationState::Delivered),
            None => None,
        };
        if original.is_some() {
            // The peer accepted our invitation: follow their feed first, so a
            // failure leaves everything as it was for a retry.
            self.follow(origin, &account, feed.as_str()).await?;
        }
        let (ours, issued) = self.issue(TokenPurpose::Conversation, &account, &d.from, &d.invitation, &record.endpoint);
        self.ports.handshake.put_handshake_token(tenant, &issued).await?;
        let state = if original.is_some() { InvitationState::Accepted } else { InvitationState::Pending };
        let incoming = Invitation {
            id: d.invitation.clone(),
            account: account.clone(),
            direction: Direction::Incoming,
            peer: d.from.clone(),
            peer_endpoint: record.endpoint.clone(),
            state,
            feed_url: feed.to_string(),
            key_url: Some(key.to_string()),
            fingerprint: Some(d.fingerprint.clone()),
            peer_token: Some(d.conversation_token.clone()),
            issued_token: Some(issued.hash.clone()),
            in_reply_to: d.in_reply_to.clone(),
            created_at: now,
            updated_at: now,
        };
        self.ports.handshake.put_invitation(tenant, &incoming).await?;
        if let Some(orig) = original {
            let conversation = Conversation {
                account: account.clone(),
                peer: d.from.clone(),
                peer_endpoint: record.endpoint.clone(),
                our_feed_url: orig.feed_url.clone(),
                their_feed_url: feed.to_string(),
                their_key_url: key.to_string(),
                their_fingerprint: d.fingerprint.clone(),
                peer_token: d.conversation_token.clone(),
                created_at: now,
            };
            self.ports.handshake.put_conversation(tenant, &conversation).await?;
            self.ports.handshake.put_invitation(tenant, &Invitation { state: InvitationState::Accepted, updated_at: now, ..orig }).await?;
            tracing::info!(tenant = %tenant, account = %account, "conversation opened (our invitation was accepted)");
        } else {
            tracing::info!(tenant = %tenant, account = %account, invitation = %d.invitation, "invitation received");
        }
        Ok(Delivered { conversation_token: ours.expose().to_owned() })
    }

    /// A decline of one of our invitations, authenticated by the
    /// conversation token its delivery carried; the token is revoked.
    pub async fn on_decline(&self, origin: &Origin, d: Decline) -> Result<(), Error> {
        let tenant = origin.tenant();
        let hash = Token::from_presented(&d.token).ok_or_else(|| Error::Forbidden(BAD_TOKEN.into()))?.hash();
        let now = self.ports.clock.now();
        let record = self.ports.handshake.get_handshake_token(tenant, &hash).await?;
        let record = record
            .filter(|r| r.hash.matches(&hash) && r.purpose == TokenPurpose::Conversation && r.expires_at > now && r.invitation == d.invitation)
            .ok_or_else(|| Error::Forbidden(BAD_TOKEN.into()))?;
        let inv = self.ports.handshake.get_invitation(tenant, &record.account, &d.invitation).await?;
        let inv = inv.filter(|i| i.direction == Direction::Outgoing).ok_or_else(|| Error::NotFound("there is no such invitation".into()))?;
        self.ports.handshake.put_invitation(tenant, &Invitation { state: InvitationState::Declined, updated_at: now, ..inv }).await?;
        self.ports.handshake.take_handshake_token(tenant, &record.hash).await?;
        Ok(())
    }
}
