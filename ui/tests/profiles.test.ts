import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import {
  avassa,
  edgeProfile,
  github,
  ghProfile,
  quay,
  quayOAuthProfile,
  quayRegistryProfile,
  quayScopes,
} from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

/** The data-testids of the setting inputs the form shows, in order. */
const settingFields = () =>
  Array.from(document.querySelectorAll('[data-testid^="setting-"]')).map((el) =>
    el.getAttribute('data-testid')!.slice('setting-'.length),
  );

async function openProfileForm(world = { servers: [avassa, github] }) {
  const rendered = renderApp(world);
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('add-profile'));
  await screen.findByRole('dialog', { name: 'Add profile' });
  return { ...rendered, user };
}

describe('profiles', () => {
  it('each row shows name, server, tenant, login and the status label', async () => {
    renderApp({ servers: [avassa, github], profiles: [edgeProfile, ghProfile] });
    const rows = await screen.findAllByTestId('profile-item');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('edge-alice');
    expect(rows[0]).toHaveTextContent('edge');
    expect(rows[0]).toHaveTextContent('acme');
    expect(rows[0]).toHaveTextContent('Avassa password');
    expect(within(rows[0]).getByTestId('profile-status')).toHaveTextContent('not logged in');
    expect(within(rows[1]).getByTestId('profile-status')).toHaveTextContent('valid');
  });

  it('the form shows exactly the fields of the chosen login kind, and follows a change of kind', async () => {
    const { user } = await openProfileForm();
    const login = screen.getByTestId('profile-login');
    expect(login).toHaveValue('avassa-password');
    expect(settingFields()).toEqual(['username']);
    expect(screen.getByTestId('profile-secret')).toBeInTheDocument();

    await user.selectOptions(login, 'avassa-kubernetes');
    expect(settingFields()).toEqual(['service', 'role', 'sa_token_file']);
    expect(screen.queryByTestId('profile-secret')).not.toBeInTheDocument();

    await user.selectOptions(login, 'avassa-oidc');
    expect(settingFields()).toEqual(['role', 'redirect']);
  });

  it('required fields are marked and optional ones are not', async () => {
    const { user } = await openProfileForm();
    await user.selectOptions(screen.getByTestId('profile-login'), 'avassa-kubernetes');
    expect(screen.getByTestId('setting-service')).toHaveAttribute('aria-required', 'true');
    expect(screen.getByTestId('setting-sa_token_file')).toHaveAttribute('aria-required', 'false');
  });

  it('the tenant field appears only for servers with tenants, and logins follow the server', async () => {
    const { user } = await openProfileForm();
    expect(screen.getByTestId('profile-tenant')).toBeInTheDocument();

    await user.selectOptions(screen.getByTestId('profile-server'), 'gh');
    expect(screen.queryByTestId('profile-tenant')).not.toBeInTheDocument();
    const logins = within(screen.getByTestId('profile-login'))
      .getAllByRole('option')
      .map((o) => (o as HTMLOptionElement).value);
    expect(logins).toEqual(['github', 'github-device', 'manual-token']);
    expect(screen.getByTestId('profile-login')).toHaveValue('github');
    expect(settingFields()).toEqual(['client_id', 'scopes', 'redirect', 'redirect_uri']);
  });

  it('the secret is a password input labelled by the spec, kept in the keyring', async () => {
    await openProfileForm();
    const secret = screen.getByTestId('profile-secret');
    expect(secret).toHaveAttribute('type', 'password');
    expect(secret).toHaveValue('');
    expect(screen.getByLabelText(/Password \(remember for silent re-login\)/)).toBe(secret);
    expect(screen.getByRole('dialog')).toHaveTextContent(/stored in the system keyring/i);
  });

  it('saving sends only the chosen login’s settings, scopes as a list, and the secret', async () => {
    const { api, user } = await openProfileForm();
    await user.type(screen.getByTestId('profile-name'), 'gh-ci');
    await user.selectOptions(screen.getByTestId('profile-server'), 'gh');
    await user.type(screen.getByTestId('setting-client_id'), 'Iv1.123');
    await user.type(screen.getByTestId('setting-scopes'), 'repo  read:user ');
    await user.selectOptions(screen.getByTestId('setting-redirect'), 'deep-link');
    await user.type(screen.getByTestId('profile-secret'), 's3cret');
    await user.type(screen.getByTestId('profile-label'), 'CI bot');
    await user.click(screen.getByTestId('profile-save'));

    expect(api.addProfile).toHaveBeenCalledWith({
      name: 'gh-ci',
      server: 'gh',
      tenant: null,
      login: 'github',
      settings: { client_id: 'Iv1.123', scopes: ['repo', 'read:user'], redirect: 'deep-link' },
      label: 'CI bot',
      secret: 's3cret',
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('a pasted token is labelled Token, and sends its optional expiry as token_expires', async () => {
    const { api, user } = await openProfileForm();
    await user.type(screen.getByTestId('profile-name'), 'pasted');
    await user.selectOptions(screen.getByTestId('profile-server'), 'gh');
    await user.selectOptions(screen.getByTestId('profile-login'), 'manual-token');
    const secret = screen.getByLabelText(/^Token/);
    expect(secret).toBe(screen.getByTestId('profile-secret'));
    expect(secret).toHaveAttribute('type', 'password');
    const expires = screen.getByLabelText(/^Expires \(only if the token does not say/);
    expect(expires).toBe(screen.getByTestId('profile-token-expires'));

    await user.type(secret, 'ghp_abc');
    await user.type(expires, 'soon');
    api.addProfile.mockRejectedValueOnce(
      fail({
        code: 'invalid',
        field: 'token_expires',
        message: 'give the expiry as RFC 3339 or a duration such as 12h',
      }),
    );
    await user.click(screen.getByTestId('profile-save'));
    expect(await screen.findByTestId('error-token_expires')).toHaveTextContent(
      'give the expiry as RFC 3339 or a duration such as 12h',
    );
    expect(expires).toHaveAttribute('aria-invalid', 'true');

    await user.clear(expires);
    await user.type(expires, '12h');
    await user.click(screen.getByTestId('profile-save'));
    expect(api.addProfile).toHaveBeenLastCalledWith({
      name: 'pasted',
      server: 'gh',
      tenant: null,
      login: 'manual-token',
      settings: {},
      label: null,
      secret: 'ghp_abc',
      token_expires: '12h',
    });
  });

  it('only a pasted token has an expiry field', async () => {
    await openProfileForm();
    expect(screen.queryByTestId('profile-token-expires')).not.toBeInTheDocument();
  });

  it('an error about a setting shows next to that setting and the form stays open', async () => {
    const { api, user } = await openProfileForm();
    api.addProfile.mockRejectedValue(
      fail({ code: 'invalid', field: 'username', message: 'avassa-password needs username' }),
    );
    await user.type(screen.getByTestId('profile-name'), 'edge-bob{Enter}');
    expect(await screen.findByTestId('error-username')).toHaveTextContent(
      'avassa-password needs username',
    );
    expect(screen.getByRole('dialog', { name: 'Add profile' })).toBeInTheDocument();
  });

  it('a keyring failure on save is shown at the top of the form', async () => {
    const { api, user } = await openProfileForm();
    api.addProfile.mockRejectedValue(
      fail({ code: 'keyring-unavailable', field: null, message: 'the keyring is locked' }),
    );
    await user.click(screen.getByTestId('profile-save'));
    expect(await screen.findByTestId('form-error')).toHaveTextContent('the keyring is locked');
  });

  it('editing starts from the profile, never shows the stored secret, and keeps it when left empty', async () => {
    const { api } = renderApp({ servers: [avassa, github], profiles: [edgeProfile] });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-edit'));
    expect(screen.getByTestId('profile-name')).toHaveValue('edge-alice');
    expect(screen.getByTestId('profile-tenant')).toHaveValue('acme');
    expect(screen.getByTestId('setting-username')).toHaveValue('alice');
    expect(screen.getByTestId('profile-secret')).toHaveValue('');
    expect(screen.getByRole('dialog')).toHaveTextContent(/leave empty to keep the stored one/i);
    await user.click(screen.getByTestId('profile-save'));
    expect(api.updateProfile).toHaveBeenCalledWith(7, {
      name: 'edge-alice',
      server: 'edge',
      tenant: 'acme',
      login: 'avassa-password',
      settings: { username: 'alice' },
      label: 'staging edge',
      secret: null,
    });
  });

  it('removing a profile asks first, then removes it by name', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-remove'));
    expect(api.removeProfile).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('confirm-remove'));
    expect(api.removeProfile).toHaveBeenCalledWith('edge-alice');
  });

  it('Escape closes the form without saving', async () => {
    const { api, user } = await openProfileForm();
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveAttribute('aria-labelledby');
    expect(document.getElementById(dialog.getAttribute('aria-labelledby')!)).toHaveTextContent(
      'Add profile',
    );
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(api.addProfile).not.toHaveBeenCalled();
  });
});

/** Queries inside the open dialog (the list has its own profile-login buttons). */
const inForm = () => within(screen.getByRole('dialog'));

/** The scope checkboxes of the form, by scope, and the ones checked. */
const scopeBoxes = () =>
  within(screen.getByRole('group', { name: /^Scopes/ })).getAllByRole('checkbox');
const checkedScopes = () =>
  scopeBoxes()
    .filter((box) => (box as HTMLInputElement).checked)
    .map((box) => box.getAttribute('data-scope'));

describe('Quay profiles', () => {
  const other: typeof quay = { ...quay, id: 6, name: 'quay2', url: 'https://quay2.example.com' };
  const otherOAuth = { ...quayOAuthProfile, id: 30, name: 'bob-oauth', server: 'quay2' };
  const session = { ...quayOAuthProfile, id: 31, name: 'web', login: 'quay-session' as const };

  async function openQuayForm() {
    const rendered = renderApp({
      servers: [quay, other],
      profiles: [quayOAuthProfile, otherOAuth, session],
    });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('add-profile'));
    await screen.findByRole('dialog', { name: 'Add profile' });
    return { ...rendered, user };
  }

  it('a login with known scopes offers them as labelled checkboxes in a Scopes group', async () => {
    const { user } = await openQuayForm();
    expect(inForm().getByTestId('profile-login')).toHaveValue('quay-direct-oauth');
    const group = screen.getByRole('group', { name: /^Scopes/ });
    expect(group.tagName).toBe('FIELDSET');
    expect(scopeBoxes().map((b) => b.getAttribute('data-scope'))).toEqual(quayScopes);
    for (const scope of quayScopes)
      expect(within(group).getByRole('checkbox', { name: scope })).not.toBeChecked();
    expect(within(group).queryByRole('textbox')).not.toBeInTheDocument();

    // A login without choices keeps the free text field.
    await user.selectOptions(inForm().getByTestId('profile-login'), 'quay-registry');
    expect(screen.queryByRole('group', { name: /^Scopes/ })).not.toBeInTheDocument();
    expect(inForm().getByTestId('setting-scopes').tagName).toBe('INPUT');
  });

  it('checked scopes are sent as a list, in Quay’s order, and unchecking removes one', async () => {
    const { api, user } = await openQuayForm();
    await user.type(inForm().getByTestId('profile-name'), 'alice2');
    await user.type(inForm().getByTestId('setting-username'), 'alice');
    await user.type(inForm().getByTestId('setting-client_id'), 'SANDBOXCLIENT0000000');
    const group = screen.getByRole('group', { name: /^Scopes/ });
    await user.click(within(group).getByRole('checkbox', { name: 'user:read' }));
    await user.click(within(group).getByRole('checkbox', { name: 'repo:write' }));
    await user.click(within(group).getByRole('checkbox', { name: 'repo:read' }));
    // The keyboard works too: Space toggles the focused box.
    within(group).getByRole('checkbox', { name: 'repo:write' }).focus();
    await user.keyboard(' ');
    expect(checkedScopes()).toEqual(['repo:read', 'user:read']);
    await user.click(inForm().getByTestId('profile-save'));
    expect(api.addProfile).toHaveBeenCalledWith({
      name: 'alice2',
      server: 'quay',
      tenant: null,
      login: 'quay-direct-oauth',
      settings: {
        username: 'alice',
        client_id: 'SANDBOXCLIENT0000000',
        scopes: ['repo:read', 'user:read'],
      },
      label: null,
      secret: null,
    });
  });

  it('editing checks the profile’s scopes, and keeps one Quay does not list', async () => {
    const odd = {
      ...quayOAuthProfile,
      settings: { ...quayOAuthProfile.settings, scopes: ['user:read', 'repo:read', 'old:scope'] },
    };
    const { api } = renderApp({ servers: [quay], profiles: [odd] });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-edit'));
    expect(checkedScopes()).toEqual(['repo:read', 'user:read', 'old:scope']);
    await user.click(screen.getByRole('checkbox', { name: 'user:read' }));
    await user.click(inForm().getByTestId('profile-save'));
    expect(api.updateProfile).toHaveBeenCalledWith(
      20,
      expect.objectContaining({
        settings: {
          username: 'alice',
          client_id: 'SANDBOXCLIENT0000000',
          scopes: ['repo:read', 'old:scope'],
        },
      }),
    );
  });

  it('the server’s error about the scopes shows next to the group, and the form stays open', async () => {
    const { api, user } = await openQuayForm();
    api.addProfile.mockRejectedValue(
      fail({
        code: 'invalid',
        field: 'scopes',
        message: 'quay-direct-oauth needs at least one scope: check the ones the token may use',
      }),
    );
    await user.type(inForm().getByTestId('profile-name'), 'none{Enter}');
    const error = await screen.findByTestId('error-scopes');
    expect(error).toHaveTextContent('needs at least one scope');
    const group = screen.getByRole('group', { name: /^Scopes/ });
    expect(group).toContainElement(error);
    expect(group).toHaveAttribute('aria-describedby', error.id);
    expect(screen.getByRole('dialog', { name: 'Add profile' })).toBeInTheDocument();
  });

  it('a registry login picks the direct-OAuth profile of the same server whose token it sends', async () => {
    const { api, user } = await openQuayForm();
    await user.selectOptions(inForm().getByTestId('profile-login'), 'quay-registry');
    const picker = screen.getByLabelText('Token of profile');
    expect(picker.tagName).toBe('SELECT');
    const options = within(picker)
      .getAllByRole('option')
      .map((o) => [(o as HTMLOptionElement).value, o.textContent]);
    // Not bob-oauth (another server), not web (a session, which has no token to lend).
    expect(options).toEqual([
      ['', 'none'],
      ['alice-oauth', 'alice-oauth'],
    ]);
    expect(picker).toHaveValue('');
    expect(picker).toHaveAccessibleDescription(
      /sent as the password, with the username \$oauthtoken/,
    );

    await user.type(inForm().getByTestId('profile-name'), 'pull');
    await user.type(inForm().getByTestId('setting-username'), '$oauthtoken');
    await user.selectOptions(picker, 'alice-oauth');
    await user.click(inForm().getByTestId('profile-save'));
    expect(api.addProfile).toHaveBeenCalledWith(
      expect.objectContaining({
        login: 'quay-registry',
        settings: { username: '$oauthtoken', source_profile: 'alice-oauth' },
      }),
    );

    // The other server offers its own.
    await user.click(await screen.findByTestId('add-profile'));
    await user.selectOptions(inForm().getByTestId('profile-server'), 'quay2');
    await user.selectOptions(inForm().getByTestId('profile-login'), 'quay-registry');
    expect(
      within(screen.getByLabelText('Token of profile'))
        .getAllByRole('option')
        .map((o) => (o as HTMLOptionElement).value),
    ).toEqual(['', 'bob-oauth']);
  });

  it('editing a registry profile selects its source, and "none" clears it', async () => {
    const { api } = renderApp({
      servers: [quay],
      profiles: [quayOAuthProfile, quayRegistryProfile],
    });
    const user = userEvent.setup();
    const rows = await screen.findAllByTestId('profile-item');
    const row = rows.find((r) => r.textContent?.includes('pull'))!;
    await user.click(within(row).getByTestId('profile-edit'));
    const picker = screen.getByLabelText('Token of profile');
    expect(picker).toHaveValue('alice-oauth');
    await user.selectOptions(picker, '');
    await user.click(inForm().getByTestId('profile-save'));
    expect(api.updateProfile).toHaveBeenCalledWith(
      21,
      expect.objectContaining({
        settings: { username: '$oauthtoken', scopes: ['repository:acme/web:pull'] },
      }),
    );
  });

  it('a source that is no longer a direct-OAuth profile of the server stays selected, so it is not lost silently', async () => {
    const gone = {
      ...quayRegistryProfile,
      settings: { ...quayRegistryProfile.settings, source_profile: 'renamed' },
    };
    renderApp({ servers: [quay], profiles: [quayOAuthProfile, gone] });
    const user = userEvent.setup();
    const rows = await screen.findAllByTestId('profile-item');
    const row = rows.find((r) => r.textContent?.includes('pull'))!;
    await user.click(within(row).getByTestId('profile-edit'));
    expect(screen.getByLabelText('Token of profile')).toHaveValue('renamed');
  });
});
