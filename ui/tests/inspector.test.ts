import { screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ProfileView } from '../src/ipc/api';
import { avassa, opaqueInspection, prodProfile } from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const PASTED = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtdXNlciJ9.c2lnbmF0dXJl';

/** The inspector opened from the header, with `token` pasted and decoded. */
async function decodePasted(token = PASTED) {
  const rendered = renderApp({ servers: [avassa], profiles: [prodProfile] });
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('open-inspector'));
  const panel = await screen.findByTestId('inspector');
  const input = within(panel).getByTestId('inspector-input');
  if (token) await user.type(input, token);
  await user.click(within(panel).getByTestId('inspector-decode'));
  return { ...rendered, user, panel, input };
}

/** The inspector of prodProfile's stored token, opened from its detail. */
async function inspectStored() {
  const rendered = renderApp({ servers: [avassa], profiles: [prodProfile] });
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('profile-open'));
  await user.click(await screen.findByTestId('inspect-profile'));
  const panel = await screen.findByTestId('inspector');
  await within(panel).findByTestId('inspector-claims');
  return { ...rendered, user, panel };
}

describe('the inspector', () => {
  it('opens empty, ready for a paste into a monospace field that neither spellchecks nor autocompletes', async () => {
    renderApp({ servers: [avassa] });
    await userEvent.setup().click(await screen.findByTestId('open-inspector'));
    const input = await screen.findByTestId('inspector-input');
    expect(input.tagName).toBe('TEXTAREA');
    expect(input).toHaveValue('');
    expect(input).toHaveClass('mono');
    expect(input).toHaveAttribute('spellcheck', 'false');
    expect(input).toHaveAttribute('autocomplete', 'off');
    expect(input).toHaveFocus();
    expect(screen.getByRole('dialog', { name: 'Token inspector' })).toBeInTheDocument();
  });

  it('sends a pasted token to Rust as "pasted" and shows header, claims, times and warnings of a JWT', async () => {
    const { api, panel } = await decodePasted();
    expect(api.inspectToken).toHaveBeenCalledWith({ source: 'pasted', token: PASTED });
    const header = await within(panel).findByTestId('inspector-header');
    expect(header.tagName).toBe('PRE');
    expect(JSON.parse(header.textContent!)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const claims = within(panel).getByTestId('inspector-claims');
    expect(claims).toHaveTextContent('"sub": "e2e-user"');
    expect(claims).toHaveTextContent('"access_token": "••••••••B4a1"');
    expect(within(panel).getByTestId('inspector-masked')).toHaveTextContent(
      'identities[0].access_token — masked: contains a credential',
    );
    const times = within(panel).getAllByTestId('inspector-time');
    expect(times).toHaveLength(2);
    expect(times[1]).toHaveTextContent('exp');
    expect(times[1]).toHaveTextContent(new Date('2030-01-01T14:00:00Z').toLocaleString());
    expect(times[1]).toHaveTextContent('2030-01-01T14:00:00Z');
    expect(times[1]).toHaveTextContent('now');
    expect(within(panel).getByTestId('inspector-warning')).toHaveTextContent(
      "non-compliant encoding: the claims end in '=' padding",
    );
    expect(within(panel).getByTestId('inspector-noncompliant')).toBeInTheDocument();
    expect(within(panel).getByTestId('inspector-alg')).toHaveTextContent('alg HS256 · kid k1');
  });

  it('describes an opaque token by length, meaning and prefix', async () => {
    const { api, panel } = await decodePasted('gho_16C7e42F292c6912E7710c838347Ae178B4a');
    api.inspectToken.mockResolvedValue(opaqueInspection);
    await userEvent.setup().click(within(panel).getByTestId('inspector-decode'));
    const opaque = await within(panel).findByTestId('inspector-opaque');
    expect(opaque.textContent?.trim()).toBe(
      'Opaque token, 40 characters — GitHub OAuth app user token (gho_)',
    );
    expect(within(panel).queryByTestId('inspector-claims')).not.toBeInTheDocument();
    expect(within(panel).queryByTestId('verify-run')).not.toBeInTheDocument();
  });

  it('Ctrl+Enter decodes, and editing the token clears the old result', async () => {
    renderApp({ servers: [avassa] });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-inspector'));
    const input = await screen.findByTestId('inspector-input');
    await user.type(input, PASTED);
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(await screen.findByTestId('inspector-claims')).toBeInTheDocument();
    await user.type(input, 'x');
    expect(screen.queryByTestId('inspector-claims')).not.toBeInTheDocument();
  });

  it('shows Rust’s error about the token under the input', async () => {
    const { api } = renderApp({ servers: [avassa] });
    api.inspectToken.mockRejectedValue(
      fail({ code: 'invalid', field: 'token', message: 'paste a token to inspect' }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-inspector'));
    await user.click(await screen.findByTestId('inspector-decode'));
    expect(await screen.findByTestId('error-token')).toHaveTextContent('paste a token to inspect');
    expect(screen.getByTestId('inspector-input')).toHaveAttribute('aria-invalid', 'true');
  });

  it('from a profile, asks for the stored token by profile id and never holds a token', async () => {
    const { api, panel } = await inspectStored();
    expect(api.inspectToken).toHaveBeenCalledTimes(1);
    expect(api.inspectToken).toHaveBeenCalledWith({ source: 'profile', profile_id: 12 });
    expect(screen.getByRole('dialog', { name: 'Stored token of prod (tenant acme)' })).toBe(panel);
    expect(within(panel).queryByTestId('inspector-input')).not.toBeInTheDocument();
    expect(panel.querySelector('textarea')).toBeNull();
  });

  it('from a profile, verifies against the stored token, and goes back to the detail', async () => {
    const { api, user, panel } = await inspectStored();
    await user.type(within(panel).getByTestId('verify-key'), 's3cret');
    await user.click(within(panel).getByTestId('verify-run'));
    expect(api.verifyToken).toHaveBeenCalledWith(
      { source: 'profile', profile_id: 12 },
      { kind: 'secret', value: 's3cret' },
    );
    await user.click(within(panel).getByTestId('inspector-back'));
    expect(await screen.findByTestId('profile-detail')).toBeInTheDocument();
  });

  it('the header button switches a profile’s inspector to an empty paste', async () => {
    const { user } = await inspectStored();
    await user.click(screen.getByTestId('open-inspector'));
    expect(await screen.findByTestId('inspector-input')).toHaveValue('');
    expect(screen.queryByTestId('inspector-claims')).not.toBeInTheDocument();
  });
});

describe('signature verification', () => {
  it('offers every kind of key, with secrets typed into a password input', async () => {
    const { user, panel } = await decodePasted();
    const kind = await within(panel).findByTestId('verify-kind');
    const options = within(kind)
      .getAllByRole('option')
      .map((o) => [(o as HTMLOptionElement).value, o.textContent]);
    expect(options).toEqual([
      ['secret', 'HMAC secret'],
      ['secret-base64url', 'HMAC secret (base64url, e.g. Kontinuous AUTH_SECRET)'],
      ['pem', 'PEM public key'],
      ['jwks', 'JWKS (paste)'],
      ['jwks-url', 'JWKS URL'],
    ]);
    expect(within(panel).getByTestId('verify-key')).toHaveAttribute('type', 'password');
    await user.selectOptions(kind, 'secret-base64url');
    expect(within(panel).getByTestId('verify-key')).toHaveAttribute('type', 'password');
    await user.selectOptions(kind, 'pem');
    expect(within(panel).getByTestId('verify-key').tagName).toBe('TEXTAREA');
    await user.selectOptions(kind, 'jwks');
    expect(within(panel).getByTestId('verify-key').tagName).toBe('TEXTAREA');
  });

  it('a key that verifies says so with the alg and the key’s kid', async () => {
    const { api, user, panel } = await decodePasted();
    api.verifyToken.mockResolvedValue({ alg: 'RS256', kid: 'key-2', compliant: true });
    await user.selectOptions(await within(panel).findByTestId('verify-kind'), 'jwks-url');
    await user.type(within(panel).getByTestId('verify-key'), 'https://id.example.com/jwks');
    await user.click(within(panel).getByTestId('verify-run'));
    expect(api.verifyToken).toHaveBeenCalledWith(
      { source: 'pasted', token: PASTED },
      { kind: 'jwks-url', value: 'https://id.example.com/jwks' },
    );
    const result = await within(panel).findByTestId('verify-result');
    expect(result).toHaveAttribute('data-ok', 'true');
    expect(result).toHaveTextContent('Signature verified with RS256, key kid=key-2');
  });

  it('a wrong key shows Rust’s message, and changing the key clears it', async () => {
    const { api, user, panel } = await decodePasted();
    api.verifyToken.mockRejectedValue(
      fail({ code: 'invalid', field: null, message: 'the signature does not match this key' }),
    );
    const key = await within(panel).findByTestId('verify-key');
    await user.type(key, 'wrong');
    await user.click(within(panel).getByTestId('verify-run'));
    const result = await within(panel).findByTestId('verify-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveTextContent('the signature does not match this key');
    await user.type(key, '!');
    expect(within(panel).queryByTestId('verify-result')).not.toBeInTheDocument();
  });

  it('an unreachable JWKS URL adds what to check', async () => {
    const { api, user, panel } = await decodePasted();
    api.verifyToken.mockRejectedValue(
      fail({ code: 'unreachable', field: null, message: 'cannot reach id.example.com' }),
    );
    await user.selectOptions(await within(panel).findByTestId('verify-kind'), 'jwks-url');
    await user.type(within(panel).getByTestId('verify-key'), 'https://id.example.com/jwks');
    await user.click(within(panel).getByTestId('verify-run'));
    const result = await within(panel).findByTestId('verify-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveTextContent('cannot reach id.example.com');
    expect(result).toHaveTextContent('Check the URL and your network.');
  });

  it('an error about the key itself shows next to the key', async () => {
    const { api, user, panel } = await decodePasted();
    api.verifyToken.mockRejectedValue(
      fail({ code: 'invalid', field: 'key', message: 'give the key to verify with' }),
    );
    await user.click(await within(panel).findByTestId('verify-run'));
    expect(await within(panel).findByTestId('error-key')).toHaveTextContent(
      'give the key to verify with',
    );
    expect(within(panel).queryByTestId('verify-result')).not.toBeInTheDocument();
  });
});

describe('the service-account token of an Avassa Kubernetes profile', () => {
  const kube: ProfileView = {
    ...prodProfile,
    id: 22,
    name: 'kube',
    login: 'avassa-kubernetes',
    settings: { service: 'edge', role: 'ci', sa_token_file: '/var/run/sa/token' },
    status: 'none',
    status_label: 'not logged in',
    expires_at: null,
    renew_due_at: null,
  };

  /** kube's detail, and the inspector opened from it on the service-account token. */
  async function inspectServiceAccount(profile: ProfileView = kube) {
    const rendered = renderApp({ servers: [avassa], profiles: [profile, prodProfile] });
    const user = userEvent.setup();
    await user.click((await screen.findAllByTestId('profile-open'))[0]);
    const detail = await screen.findByTestId('profile-detail');
    await user.click(within(detail).getByTestId('inspect-sa-token'));
    const panel = await screen.findByTestId('inspector');
    return { ...rendered, user, panel };
  }

  it('is offered for that login kind only, even before any login', async () => {
    renderApp({ servers: [avassa], profiles: [kube, prodProfile] });
    const user = userEvent.setup();
    await user.click((await screen.findAllByTestId('profile-open'))[0]);
    const detail = await screen.findByTestId('profile-detail');
    const button = within(detail).getByTestId('inspect-sa-token');
    expect(button).toHaveTextContent('Inspect service-account token');
    expect(button).toBeEnabled();
    // There is no stored token yet: that inspector stays off.
    expect(within(detail).getByTestId('inspect-profile')).toBeDisabled();

    await user.click(screen.getAllByTestId('profile-open')[1]);
    const other = await screen.findByRole('dialog', { name: /prod/ });
    expect(within(other).queryByTestId('inspect-sa-token')).not.toBeInTheDocument();
  });

  it('asks Rust for the token by profile id, read from its file, and shows the claims', async () => {
    const { api, panel } = await inspectServiceAccount();
    expect(api.inspectToken).toHaveBeenCalledWith({ source: 'service-account', profile_id: 22 });
    expect(
      screen.getByRole('dialog', { name: 'Service-account token of kube (tenant acme)' }),
    ).toBe(panel);
    expect(within(panel).getByTestId('inspector-sa-note')).toHaveTextContent('/var/run/sa/token');
    expect(await within(panel).findByTestId('inspector-claims')).toHaveTextContent(
      '"sub": "e2e-user"',
    );
    expect(within(panel).queryByTestId('inspector-input')).not.toBeInTheDocument();
  });

  it('verifies the signature against the same token', async () => {
    const { api, user, panel } = await inspectServiceAccount();
    await within(panel).findByTestId('inspector-claims');
    await user.type(within(panel).getByTestId('verify-key'), 'k');
    await user.click(within(panel).getByTestId('verify-run'));
    expect(api.verifyToken).toHaveBeenCalledWith(
      { source: 'service-account', profile_id: 22 },
      { kind: 'secret', value: 'k' },
    );
  });

  it('says why the file cannot be read, in Rust’s words', async () => {
    const rendered = renderApp({ servers: [avassa], profiles: [kube] });
    rendered.api.inspectToken.mockRejectedValue(
      fail({
        code: 'invalid',
        field: 'sa_token_file',
        message:
          'cannot read the service-account token /var/run/sa/token: No such file or directory',
      }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-open'));
    await user.click(await screen.findByTestId('inspect-sa-token'));
    const panel = await screen.findByTestId('inspector');
    expect(await within(panel).findByTestId('form-error')).toHaveTextContent(
      'cannot read the service-account token /var/run/sa/token',
    );
  });

  it('goes back to the detail, and the stored-token inspector is a different panel', async () => {
    const { user, panel } = await inspectServiceAccount({ ...kube, status: 'valid' });
    await user.click(within(panel).getByTestId('inspector-back'));
    const detail = await screen.findByTestId('profile-detail');
    await user.click(within(detail).getByTestId('inspect-profile'));
    expect(
      await screen.findByRole('dialog', { name: 'Stored token of kube (tenant acme)' }),
    ).toBeInTheDocument();
  });
});
