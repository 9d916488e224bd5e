//! The client side of the handshake: an account invites someone, sees its
//! invitations, and accepts (the reverse invitation), declines or blocks.

use cloudim_protocol::identity::hosted_identity;
use cloudim_protocol::pm::{Decline, Notice, PmMessage};
use cloudim_protocol::{AccountName, Identity, InvitationId, Origin, Tenant};

use crate::publish::feed_url;
use crate::{Conversation, Direction, Error, Invitation, InvitationState, Provider};

/// The title of every conversation feed: it names nobody, since feeds are
/// public documents.
const CONVERSATION_TITLE: &str = "cloudim conversation";

impl Provider {
    /// Invites `target` (an identity URL or `acct:user@host`) to a
    /// conversation with `account`: creates our feed to them and runs the
    /// handshake. Returns the invitation as it stands afterwards.
    pub async fn invite(&self, origin: &Origin, account: &AccountName, target: &str) -> Result<Invitation, Error> {
        let tenant = origin.tenant();
        let to = self.identity_of(target).await?;
        let me = hosted_identity(origin, account).map_err(Error::invalid)?;
        if to == me {
            return Err(Error::invalid("you cannot invite yourself"));
        }
        if self.ports.handshake.list_conversations(tenant, account).await?.iter().any(|c| c.peer == to) {
            return Err(Error::Conflict(format!("you already have a conversation with {to}")));
        }
        self.send_invitation(origin, account, &to, None).await
    }

    /// Accepts an incoming invitation: follows the peer's feed, and sends
    /// the reverse invitation carrying our feed and key.
    pub async fn accept(&self, origin: &Origin, account: &AccountName, id: &str) -> Result<Conversation, Error> {
        let tenant = origin.tenant();
        let inv = self.incoming(tenant, account, id).await?;
        self.follow(origin, account, &inv.feed_url).await?;
        let reply = self.send_invitation(origin, account, &inv.peer, Some(inv.id.clone())).await?;
        let now = self.ports.clock.now();
        let conversation = Conversation {
            account: account.clone(),
            peer: inv.peer.clone(),
            peer_endpoint: reply.peer_endpoint.clone(),
            our_feed_url: reply.feed_url.clone(),
            their_feed_url: inv.feed_url.clone(),
            their_key_url: inv.key_url.clone().unwrap_or_default(),
            their_fingerprint: inv.fingerprint.clone().ok_or_else(|| Error::Conflict("the invitation carries no fingerprint".into()))?,
            peer_token: reply.peer_token.clone().or_else(|| inv.peer_token.clone()).unwrap_or_default(),
            created_at: now,
        };
        self.ports.handshake.put_conversation(tenant, &conversation).await?;
        self.ports.handshake.put_invitation(tenant, &Invitation { state: InvitationState::Accepted, updated_at: now, ..inv }).await?;
        if reply.state == InvitationState::Delivered {
            self.ports.handshake.put_invitation(tenant, &Invitation { state: InvitationState::Accepted, updated_at: now, ..reply }).await?;
        }
        tracing::info!(tenant = %tenant, account = %account, "conversation opened (invitation accepted)");
        Ok(conversation)
    }

    /// Declines an incoming invitation and tells the sender's provider.
    pub async fn decline(&self, origin: &Origin, account: &AccountName, id: &str) -> Result<Invitation, Error> {
        let tenant = origin.tenant();
        let inv = self.incoming(tenant, account, id).await?;
        let declined = self.close_incoming(tenant, inv, InvitationState::Declined).await?;
        if let Some(token) = &declined.peer_token {
            let msg = PmMessage::Decline(Decline { invitation: declined.id.clone(), token: token.clone() });
            if let Err(e) = self.send_pm(&declined.peer_endpoint, &msg).await {
                tracing::warn!(tenant = %tenant, error = %e, "the sender's provider was not told of the decline");
            }
        }
        Ok(declined)
    }

    /// Declines an incoming invitation and blocks its sender: later
    /// invitations from that identity are dropped. The sender is not told.
    pub async fn block(&self, origin: &Origin, account: &AccountName, id: &str) -> Result<Invitation, Error> {
        let tenant = origin.tenant();
        let inv = self.incoming(tenant, account, id).await?;
        self.ports.handshake.put_block(tenant, account, &inv.peer, self.ports.clock.now()).await?;
        self.close_incoming(tenant, inv, InvitationState::Blocked).await
    }

    /// Every invitation of an account, newest first.
    pub async fn invitations(&self, tenant: &Tenant, account: &AccountName) -> Result<Vec<Invitation>, Error> {
        let mut all = self.ports.handshake.list_invitations(tenant, account).await?;
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }

    /// Every open conversation of an account.
    pub async fn conversations(&self, tenant: &Tenant, account: &AccountName) -> Result<Vec<Conversation>, Error> {
        Ok(self.ports.handshake.list_conversations(tenant, account).await?)
    }

    async fn incoming(&self, tenant: &Tenant, account: &AccountName, id: &str) -> Result<Invitation, Error> {
        let id = InvitationId::parse(id).map_err(Error::invalid)?;
        let inv = self.ports.handshake.get_invitation(tenant, account, &id).await?;
        let inv = inv.filter(|i| i.direction == Direction::Incoming).ok_or_else(|| Error::NotFound("there is no such invitation".into()))?;
        if inv.state != InvitationState::Pending {
            return Err(Error::Conflict(format!("the invitation is already {}", inv.state.as_str())));
        }
        Ok(inv)
    }

    async fn close_incoming(&self, tenant: &Tenant, inv: Invitation, state: InvitationState) -> Result<Invitation, Error> {
        if let Some(hash) = &inv.issued_token {
            self.ports.handshake.take_handshake_token(tenant, hash).await?;
        }
        let closed = Invitation { state, updated_at: self.ports.clock.now(), ..inv };
        self.ports.handshake.put_invitation(tenant, &closed).await?;
        Ok(closed)
    }

    /// Creates our feed to `to`, records an outgoing invitation and sends
    /// the notice; the recipient's provider completes the handshake before
    /// answering.
    async fn send_invitation(&self, origin: &Origin, account: &AccountName, to: &Identity, in_reply_to: Option<InvitationId>) -> Result<Invitation, Error> {
        let tenant = origin.tenant();
        if self.key_of(tenant, account).await?.is_none() {
            return Err(Error::Conflict("upload your public key first (PUT /account/key)".into()));
        }
        let endpoint = self.pm_endpoint_of(tenant, to, false).await?;
        let me = hosted_identity(origin, account).map_err(Error::invalid)?;
        let feed = self.create_feed(origin, account, Some(CONVERSATION_TITLE)).await?;
        let now = self.ports.clock.now();
        let inv = Invitation {
            id: InvitationId::generate(),
            account: account.clone(),
            direction: Direction::Outgoing,
            peer: to.clone(),
            peer_endpoint: endpoint.to_string(),
            state: InvitationState::Sent,
            feed_url: feed_url(origin, &feed.id),
            key_url: None,
            fingerprint: None,
            peer_token: None,
            issued_token: None,
            in_reply_to,
            created_at: now,
            updated_at: now,
        };
        self.ports.handshake.put_invitation(tenant, &inv).await?;
        let notice = PmMessage::Notice(Notice { invitation: inv.id.clone(), from: me, to: to.clone() });
        if let Err(e) = self.send_pm(endpoint.as_str(), &notice).await {
            let failed = Invitation { state: InvitationState::Failed, updated_at: self.ports.clock.now(), ..inv };
            self.ports.handshake.put_invitation(tenant, &failed).await?;
            return Err(e);
        }
        let sent = self.ports.handshake.get_invitation(tenant, account, &inv.id).await?;
        Ok(sent.unwrap_or(inv))
    }
}
