// A real OpenID Connect provider for the sign-in end-to-end tests (npm package oidc-provider).
// Listens on 127.0.0.1 only. Usage: PORT=... REDIRECT_URIS=http://127.0.0.1:8501/oauth2callback node provider.mjs
// Its own sign-in form (devInteractions): the login is the account id below, any password.
// ID_TOKEN_TTL: the ID token's lifetime in seconds (default one hour), short for the expiry tests.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 9400);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || 'http://127.0.0.1:8501/oauth2callback').split(',');
const idTokenTtl = Number(process.env.ID_TOKEN_TTL || 3600);

// The test accounts: the e2e test's users.csv gives them their roles (the submitter by its group, as Entra ID would).
// "unverified" claims the place lead's address without the provider having verified it: it must get no role.
const ACCOUNTS = {
  viewer: { email: 'viewer@example.nhs.uk', name: 'Vera Viewer', groups: [] },
  placelead: { email: 'placelead@example.nhs.uk', name: 'Pat Placelead', groups: [] },
  submitter: { email: 'submitter@example.nhs.uk', name: 'Sam Submitter', groups: ['york-bi-team'] },
  unverified: { email: 'placelead@example.nhs.uk', name: 'Not Verified', groups: [], verified: false },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'flow-dashboard',
    client_secret: 'flow-dashboard-test-secret',
    redirect_uris: redirectUris,
    // Streamlit's st.logout sends its redirect_uri (the /oauth2callback address) as post_logout_redirect_uri.
    post_logout_redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false, // the ID token carries the claims (Streamlit reads st.user from it)
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: idTokenTtl },
  cookies: { keys: ['flow-dashboard-test-cookie-key'] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id, email: account.email, email_verified: account.verified ?? true, name: account.name,
          groups: account.groups,
        };
      },
    };
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
