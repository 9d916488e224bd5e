//! Accounts and bearer-token authentication.

use cloudim_protocol::{AccountName, Tenant};

use crate::{Account, Error, Meter, Provider, StoreError, Token, TokenRecord};

impl Provider {
    /// Creates an account and its first token; the token's plaintext is
    /// returned once and only its hash is stored.
    pub async fn create_account(&self, tenant: &Tenant, name: &str) -> Result<(Account, Token), Error> {
        let name = AccountName::parse(name).map_err(Error::invalid)?;
        let now = self.ports.clock.now();
        let account = Account { name: name.clone(), created_at: now };
        let limits = self.admit(tenant).await?.limits;
        self.take(tenant, &limits, Meter::Accounts, 1).await?;
        match self.ports.accounts.create_account(tenant, &account).await {
            Ok(()) => {}
            Err(e) => {
                self.give_back(tenant, Meter::Accounts, 1).await;
                return Err(match e {
                    StoreError::PreconditionFailed => Error::Conflict(format!("the account '{name}' already exists")),
                    e => e.into(),
                });
            }
        }
        let token = self.issue_token(tenant, &name).await?;
        tracing::info!(tenant = %tenant, account = %name, "account created");
        Ok((account, token))
    }

    /// Open registration (`POST /accounts`): creates an account for anyone
    /// when the operator allows it, at most so many per tenant per hour.
    pub async fn register(&self, tenant: &Tenant, name: &str) -> Result<(Account, Token), Error> {
        if !self.settings.open_registration {
            return Err(Error::Forbidden("this provider does not take open registrations; ask its operator for an account".into()));
        }
        AccountName::parse(name).map_err(Error::invalid)?;
        self.limit(tenant, "registrations".to_owned(), self.settings.registrations_per_hour, "registrations on this provider").await?;
        self.create_account(tenant, name).await
    }

    /// Issues another token for an existing account.
    pub async fn issue_token(&self, tenant: &Tenant, name: &AccountName) -> Result<Token, Error> {
        let token = Token::generate();
        let record = TokenRecord { hash: token.hash(), account: name.clone(), created_at: self.ports.clock.now(), expires_at: None };
        self.ports.accounts.put_token(tenant, &record).await?;
        Ok(token)
    }

    /// Resolves a presented bearer token to its account.
    pub async fn authenticate(&self, tenant: &Tenant, presented: &str) -> Result<AccountName, Error> {
        let token = Token::from_presented(presented).ok_or(Error::Unauthorized)?;
        let hash = token.hash();
        let record = self.ports.accounts.get_token(tenant, &hash).await?.ok_or(Error::Unauthorized)?;
        let live = record.expires_at.is_none_or(|t| t > self.ports.clock.now());
        if !record.hash.matches(&hash) || !live {
            return Err(Error::Unauthorized);
        }
        Ok(record.account)
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, tenant: &Tenant, presented: &str) -> Result<(), Error> {
        let token = Token::from_presented(presented).ok_or(Error::Unauthorized)?;
        self.ports.accounts.delete_token(tenant, &token.hash()).await?;
        Ok(())
    }
}
