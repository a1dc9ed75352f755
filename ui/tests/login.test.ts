import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { LoginStep, ProfileView } from '../src/ipc/api';
import { avassa, dciProfile, edgeProfile, ghProfile, github, prodProfile } from './fixtures';
import { emit, fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

/** An Avassa password profile of tenant acme whose server asks for an OTP. */
const bob: ProfileView = {
  ...edgeProfile,
  id: 21,
  name: 'bob',
  settings: { username: 'bob' },
  label: null,
};

/** An Avassa Kubernetes profile: logs in with its service-account token, no dialog. */
const kube: ProfileView = {
  ...edgeProfile,
  id: 22,
  name: 'kube',
  login: 'avassa-kubernetes',
  settings: { service: 'edge', role: 'ci' },
  label: null,
};

const needsOtp: LoginStep = {
  step: 'needs-otp',
  profile: 'bob',
  tenant: 'acme',
  message: 'enter the code from your authenticator app',
};

const done = (profile: string, minutes = 10): LoginStep => ({
  step: 'done',
  profile,
  tenant: 'acme',
  expires_at: new Date(Date.now() + minutes * 60_000 + 30_000).toISOString(),
});

/** The app with `profiles` listed. */
async function app(profiles: ProfileView[]) {
  const rendered = renderApp({ servers: [avassa, github], profiles });
  const user = userEvent.setup();
  await screen.findAllByTestId('profile-item');
  return { ...rendered, user };
}

const row = (name: string) =>
  screen.getAllByTestId('profile-item').find((r) => r.dataset.profile === name)!;

/** Opens the password dialog from `name`'s row. */
async function openLogin(user: ReturnType<typeof userEvent.setup>, name: string) {
  await user.click(within(row(name)).getByTestId('profile-login'));
  return screen.findByTestId('login-dialog');
}

/** Logs bob in with a password, to the OTP dialog. */
async function toOtp() {
  const rendered = await app([bob]);
  rendered.api.login.mockResolvedValue(needsOtp);
  const dialog = await openLogin(rendered.user, 'bob');
  await rendered.user.type(within(dialog).getByTestId('login-password'), 's3cret');
  await rendered.user.click(within(dialog).getByTestId('login-submit'));
  const otp = await screen.findByTestId('otp-dialog');
  return { ...rendered, otp };
}

describe('the Log in button', () => {
  it('shows only for kinds Latchkey can log in, saying "again" when there is a token', async () => {
    const { user } = await app([edgeProfile, ghProfile, prodProfile, dciProfile, kube]);
    expect(within(row('edge-alice')).getByTestId('profile-login')).toHaveTextContent(/^Log in$/);
    expect(within(row('prod')).getByTestId('profile-login')).toHaveTextContent('Log in again');
    expect(within(row('kube')).getByTestId('profile-login')).toBeInTheDocument();
    expect(within(row('gh-work')).queryByTestId('profile-login')).not.toBeInTheDocument();
    expect(within(row('dci-ci')).queryByTestId('profile-login')).not.toBeInTheDocument();

    await user.click(within(row('prod')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    expect(within(panel).getByTestId('login')).toHaveTextContent('Log in again');

    await user.click(within(row('gh-work')).getByTestId('profile-open'));
    const other = await screen.findByRole('dialog', { name: /gh-work/ });
    expect(within(other).queryByTestId('login')).not.toBeInTheDocument();
  });

  it('the tenant shows in the row and the detail heading', async () => {
    const { user } = await app([prodProfile]);
    expect(within(row('prod')).getByTestId('profile-row-tenant')).toHaveTextContent('acme');
    await user.click(within(row('prod')).getByTestId('profile-open'));
    expect(await screen.findByRole('dialog', { name: /prod.*tenant acme/ })).toBeInTheDocument();
  });
});

describe('the password dialog', () => {
  it('names profile, server and tenant, and logs in with the password and remember choice', async () => {
    const { api, user } = await app([edgeProfile]);
    api.login.mockResolvedValue(done('edge-alice'));
    const dialog = await openLogin(user, 'edge-alice');
    expect(dialog).toHaveRole('dialog');
    expect(dialog).toHaveAccessibleName('Log in to edge-alice');
    expect(within(dialog).getByTestId('login-who')).toHaveTextContent('alice @ edge · tenant acme');
    const password = within(dialog).getByTestId('login-password');
    expect(password).toHaveAttribute('type', 'password');
    expect(password).toHaveFocus();
    expect(dialog).toHaveTextContent(/leave empty to use the password remembered/i);

    const before = api.listProfiles.mock.calls.length;
    await user.type(password, 'hunter2');
    await user.click(within(dialog).getByTestId('login-remember'));
    await user.click(within(dialog).getByTestId('login-submit'));
    expect(api.login).toHaveBeenCalledWith(7, 'hunter2', true);

    const confirmation = await screen.findByTestId('login-done');
    expect(confirmation).toHaveTextContent(/^Logged in edge-alice · tenant acme — expires in 10 m/);
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
    await waitFor(() => expect(api.listProfiles.mock.calls.length).toBeGreaterThan(before));
    // Focus goes back to the button that opened the dialog.
    expect(within(row('edge-alice')).getByTestId('profile-login')).toHaveFocus();
  });

  it('an empty password means the remembered one; Enter submits', async () => {
    const { api, user } = await app([edgeProfile]);
    await openLogin(user, 'edge-alice');
    await user.keyboard('{Enter}');
    expect(api.login).toHaveBeenCalledWith(7, null, false);
    expect(await screen.findByTestId('login-done')).toBeInTheDocument();
  });

  it('disables its buttons and shows progress while the call runs', async () => {
    const { api, user } = await app([edgeProfile]);
    let answer: (step: LoginStep) => void = () => {};
    api.login.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    const dialog = await openLogin(user, 'edge-alice');
    await user.click(within(dialog).getByTestId('login-submit'));
    const submit = within(dialog).getByTestId('login-submit');
    expect(submit).toBeDisabled();
    expect(submit).toHaveTextContent('Logging in…');
    expect(within(dialog).getByTestId('login-cancel')).toBeDisabled();
    answer(done('edge-alice'));
    expect(await screen.findByTestId('login-done')).toBeInTheDocument();
  });

  it('a wrong password shows the server’s message next to the password, and stays open', async () => {
    const { api, user } = await app([edgeProfile]);
    api.login.mockRejectedValue(
      fail({ code: 'server-refused', field: 'password', message: 'invalid username or password' }),
    );
    const dialog = await openLogin(user, 'edge-alice');
    await user.type(within(dialog).getByTestId('login-password'), 'wrong');
    await user.click(within(dialog).getByTestId('login-submit'));
    expect(await within(dialog).findByTestId('error-password')).toHaveTextContent(
      'invalid username or password',
    );
    expect(within(dialog).queryByTestId('login-error')).not.toBeInTheDocument();
    expect(within(dialog).getByTestId('login-password')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('login-dialog')).toBeInTheDocument();
    expect(screen.queryByTestId('login-done')).not.toBeInTheDocument();
  });

  it('any other error shows its message in the dialog, which stays open', async () => {
    const { api, user } = await app([edgeProfile]);
    const dialog = await openLogin(user, 'edge-alice');
    for (const error of [
      { code: 'unreachable', message: 'cannot reach api.edge.example.com' },
      { code: 'server-refused', message: 'the strongbox is sealed (503)' },
      { code: 'server-refused', message: 'unknown tenant acme' },
    ] as const) {
      api.login.mockRejectedValueOnce(fail({ ...error, field: null }));
      await user.click(within(dialog).getByTestId('login-submit'));
      expect(await within(dialog).findByTestId('login-error')).toHaveTextContent(error.message);
      expect(within(dialog).queryByTestId('error-password')).not.toBeInTheDocument();
    }
    expect(screen.getByTestId('login-dialog')).toBeInTheDocument();
  });

  it('Cancel closes without logging in', async () => {
    const { api, user } = await app([edgeProfile]);
    const dialog = await openLogin(user, 'edge-alice');
    await user.click(within(dialog).getByTestId('login-cancel'));
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
    expect(api.login).not.toHaveBeenCalled();
    expect(within(row('edge-alice')).getByTestId('profile-login')).toHaveFocus();
  });
});

describe('the OTP dialog', () => {
  it('opens when the server asks for a code, naming profile and tenant and showing its message', async () => {
    const { api, otp } = await toOtp();
    expect(api.login).toHaveBeenCalledWith(21, 's3cret', false);
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
    expect(otp).toHaveRole('dialog');
    expect(otp).toHaveAccessibleName('One-time code for bob · tenant acme');
    expect(within(otp).getByTestId('otp-profile')).toHaveTextContent('bob · tenant acme');
    expect(within(otp).getByTestId('otp-message')).toHaveTextContent(
      'enter the code from your authenticator app',
    );
    const input = within(otp).getByTestId('otp-input');
    expect(input).toHaveAttribute('inputmode', 'numeric');
    expect(input).toHaveAttribute('autocomplete', 'one-time-code');
    expect(input).toHaveFocus();
    expect(within(otp).getByTestId('otp-submit')).toBeDisabled();
  });

  it('a wrong code shows the message, clears and refocuses the input, and stays open', async () => {
    const { api, user, otp } = await toOtp();
    api.submitOtp.mockRejectedValueOnce(
      fail({ code: 'server-refused', field: 'otp', message: 'invalid one-time code' }),
    );
    const input = within(otp).getByTestId('otp-input');
    await user.type(input, '111111');
    await user.click(within(otp).getByTestId('otp-submit'));
    expect(await within(otp).findByTestId('otp-error')).toHaveTextContent('invalid one-time code');
    expect(screen.getByTestId('otp-dialog')).toBeInTheDocument();
    expect(input).toHaveValue('');
    await waitFor(() => expect(input).toHaveFocus());
    expect(within(otp).getByTestId('otp-submit')).toBeDisabled();

    // The right code, next.
    api.submitOtp.mockResolvedValueOnce(done('bob'));
    await user.type(input, '222222');
    await user.click(within(otp).getByTestId('otp-submit'));
    expect(api.submitOtp).toHaveBeenLastCalledWith(21, '222222');
    expect(await screen.findByTestId('login-done')).toHaveTextContent(
      /^Logged in bob · tenant acme — expires in 10 m/,
    );
    expect(screen.queryByTestId('otp-dialog')).not.toBeInTheDocument();
  });

  it('the right code logs in and reloads the lists and the open detail', async () => {
    const { api, user } = await app([bob]);
    await user.click(within(row('bob')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    api.login.mockResolvedValue(needsOtp);
    api.submitOtp.mockResolvedValue(done('bob'));
    await user.click(within(panel).getByTestId('login'));
    await user.click(within(await screen.findByTestId('login-dialog')).getByTestId('login-submit'));
    const otp = await screen.findByTestId('otp-dialog');
    const profilesBefore = api.listProfiles.mock.calls.length;
    const detailBefore = api.credential.mock.calls.length;
    await user.type(within(otp).getByTestId('otp-input'), '123456{Enter}');
    expect(api.submitOtp).toHaveBeenCalledWith(21, '123456');
    expect(await screen.findByTestId('login-done')).toHaveTextContent('Logged in bob');
    await waitFor(() => expect(api.listProfiles.mock.calls.length).toBeGreaterThan(profilesBefore));
    await waitFor(() => expect(api.credential.mock.calls.length).toBeGreaterThan(detailBefore));
    // Focus goes back to the detail's Log in button, which opened the first dialog.
    await waitFor(() => expect(within(panel).getByTestId('login')).toHaveFocus());
  });

  it('keeps digits only: a pasted "123 456" or "123-456" is submitted as 123456', async () => {
    const { api, user, otp } = await toOtp();
    const input = within(otp).getByTestId('otp-input');
    await user.click(input);
    await user.paste('123 456');
    expect(input).toHaveValue('123456');
    expect(within(otp).getByTestId('otp-submit')).toBeEnabled();
    await user.click(within(otp).getByTestId('otp-submit'));
    expect(api.submitOtp).toHaveBeenCalledWith(21, '123456');
    await screen.findByTestId('login-done');

    const second = await toOtpAgain(user);
    const again = within(second).getByTestId('otp-input');
    await user.click(again);
    await user.paste('654-321');
    expect(again).toHaveValue('654321');
  });

  it('Enter submits; nothing is sent before six digits', async () => {
    const { api, user, otp } = await toOtp();
    const input = within(otp).getByTestId('otp-input');
    await user.type(input, '12345{Enter}');
    expect(api.submitOtp).not.toHaveBeenCalled();
    await user.type(input, '6{Enter}');
    expect(api.submitOtp).toHaveBeenCalledWith(21, '123456');
  });

  it('Cancel ends the login and closes, and nothing else happens', async () => {
    const { api, user, otp } = await toOtp();
    await user.click(within(otp).getByTestId('otp-cancel'));
    expect(api.cancelLogin).toHaveBeenCalledWith(21);
    expect(screen.queryByTestId('otp-dialog')).not.toBeInTheDocument();
    expect(api.submitOtp).not.toHaveBeenCalled();
    expect(screen.queryByTestId('login-done')).not.toBeInTheDocument();
    expect(screen.queryByTestId('login-error')).not.toBeInTheDocument();
    expect(within(row('bob')).getByTestId('profile-login')).toHaveFocus();
  });

  it('Escape is Cancel', async () => {
    const { api, user } = await toOtp();
    await user.keyboard('{Escape}');
    expect(api.cancelLogin).toHaveBeenCalledWith(21);
    expect(screen.queryByTestId('otp-dialog')).not.toBeInTheDocument();
  });

  it('a login that stopped waiting closes the dialog and says so', async () => {
    const { api, user, otp } = await toOtp();
    api.submitOtp.mockRejectedValue(
      fail({
        code: 'login-required',
        field: null,
        message: "the login of 'bob' is no longer waiting for a code; start it again",
      }),
    );
    await user.type(within(otp).getByTestId('otp-input'), '123456{Enter}');
    await waitFor(() => expect(screen.queryByTestId('otp-dialog')).not.toBeInTheDocument());
    expect(screen.getByTestId('login-error')).toHaveTextContent(
      "the login of 'bob' is no longer waiting for a code; start it again",
    );
    expect(api.cancelLogin).not.toHaveBeenCalled();
  });

  it('…in the detail when it started there', async () => {
    const { api, user } = await app([bob]);
    await user.click(within(row('bob')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    api.login.mockResolvedValue(needsOtp);
    api.submitOtp.mockRejectedValue(
      fail({ code: 'login-required', field: null, message: 'the login stopped waiting' }),
    );
    await user.click(within(panel).getByTestId('login'));
    await user.click(within(await screen.findByTestId('login-dialog')).getByTestId('login-submit'));
    await user.type(
      within(await screen.findByTestId('otp-dialog')).getByTestId('otp-input'),
      '123456{Enter}',
    );
    expect(await within(panel).findByTestId('login-error')).toHaveTextContent(
      'the login stopped waiting',
    );
    expect(screen.queryByTestId('otp-dialog')).not.toBeInTheDocument();
    expect(screen.getAllByTestId('login-error')).toHaveLength(1);
  });
});

/** After a finished login of bob, starts another one to the OTP dialog. */
async function toOtpAgain(user: ReturnType<typeof userEvent.setup>) {
  const dialog = await openLogin(user, 'bob');
  await user.click(within(dialog).getByTestId('login-submit'));
  return screen.findByTestId('otp-dialog');
}

describe('a direct login', () => {
  it('logs in at once, without a dialog, showing progress on the button', async () => {
    const { api, user } = await app([kube]);
    let answer: (step: LoginStep) => void = () => {};
    api.login.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    const button = within(row('kube')).getByTestId('profile-login');
    await user.click(button);
    expect(api.login).toHaveBeenCalledWith(22, null, false);
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
    expect(button).toHaveTextContent('Logging in…');
    expect(button).toBeDisabled();
    answer(done('kube'));
    expect(await screen.findByTestId('login-done')).toHaveTextContent(
      'Logged in kube · tenant acme',
    );
    await waitFor(() => expect(button).toHaveTextContent('Log in'));
  });

  it('shows a failure in the open detail', async () => {
    const { api, user } = await app([kube]);
    await user.click(within(row('kube')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    api.login.mockRejectedValue(
      fail({ code: 'server-refused', field: null, message: 'role ci is not bound to edge' }),
    );
    await user.click(within(panel).getByTestId('login'));
    expect(await within(panel).findByTestId('login-error')).toHaveTextContent(
      'role ci is not bound to edge',
    );
    expect(screen.getAllByTestId('login-error')).toHaveLength(1);
  });

  it('shows a failure as a notice when no detail is open', async () => {
    const { api, user } = await app([kube]);
    api.login.mockRejectedValue(
      fail({ code: 'unreachable', field: null, message: 'cannot reach api.edge.example.com' }),
    );
    await user.click(within(row('kube')).getByTestId('profile-login'));
    expect(await screen.findByTestId('login-error')).toHaveTextContent(
      'cannot reach api.edge.example.com',
    );
  });

  it('can land in the OTP dialog too', async () => {
    const { api, user } = await app([kube]);
    api.login.mockResolvedValue({ ...needsOtp, profile: 'kube' });
    await user.click(within(row('kube')).getByTestId('profile-login'));
    const otp = await screen.findByTestId('otp-dialog');
    expect(within(otp).getByTestId('otp-profile')).toHaveTextContent('kube · tenant acme');
  });
});

describe('what the server says', () => {
  it('lists the server’s lines when the profile has a token, and asks again on demand', async () => {
    const { api, user } = await app([prodProfile]);
    api.tokenInfo.mockResolvedValue([
      { name: 'tenant', value: 'acme' },
      { name: 'policies', value: 'developer, viewer' },
    ]);
    await user.click(within(row('prod')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    const section = await within(panel).findByTestId('server-token-info');
    expect(section).toHaveTextContent('What the server says');
    const items = within(section).getAllByTestId('server-info-item');
    expect(items.map((i) => i.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'tenant acme',
      'policies developer, viewer',
    ]);
    expect(api.tokenInfo).toHaveBeenCalledWith(12);

    const calls = api.tokenInfo.mock.calls.length;
    await user.click(within(section).getByTestId('server-info-load'));
    expect(api.tokenInfo.mock.calls.length).toBe(calls + 1);
  });

  it('shows the server’s error without hiding the rest', async () => {
    const { api, user } = await app([prodProfile]);
    api.tokenInfo.mockResolvedValueOnce([{ name: 'tenant', value: 'acme' }]);
    await user.click(within(row('prod')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    await within(panel).findByTestId('server-info-item');

    api.tokenInfo.mockRejectedValue(
      fail({ code: 'unreachable', field: null, message: 'cannot reach api.edge.example.com' }),
    );
    await user.click(within(panel).getByTestId('server-info-load'));
    expect(await within(panel).findByTestId('server-info-error')).toHaveTextContent(
      'cannot reach api.edge.example.com',
    );
    expect(within(panel).getByTestId('server-info-item')).toHaveTextContent('tenant acme');
    expect(within(panel).getAllByTestId('token-info')).toHaveLength(1);
    expect(within(panel).getAllByTestId('history-item').length).toBeGreaterThan(0);
  });

  it('an error on first asking still shows', async () => {
    const { api, user } = await app([prodProfile]);
    api.tokenInfo.mockRejectedValue(
      fail({ code: 'login-required', field: null, message: "'prod' has no token: log in" }),
    );
    await user.click(within(row('prod')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    expect(await within(panel).findByTestId('server-info-error')).toHaveTextContent(
      "'prod' has no token: log in",
    );
  });

  it('shows nothing for an empty answer, without a token, or for kinds that cannot ask', async () => {
    const { api, user } = await app([prodProfile, edgeProfile, ghProfile]);
    await user.click(within(row('prod')).getByTestId('profile-open'));
    let panel = await screen.findByTestId('profile-detail');
    await waitFor(() => expect(api.tokenInfo).toHaveBeenCalledWith(12));
    await within(panel).findAllByTestId('history-item');
    expect(within(panel).queryByTestId('server-token-info')).not.toBeInTheDocument();

    api.tokenInfo.mockClear();
    await user.click(within(row('edge-alice')).getByTestId('profile-open'));
    panel = await screen.findByRole('dialog', { name: /edge-alice/ });
    await user.click(within(row('gh-work')).getByTestId('profile-open'));
    panel = await screen.findByRole('dialog', { name: /gh-work/ });
    await within(panel).findAllByTestId('history-item');
    expect(api.tokenInfo).not.toHaveBeenCalled();
    expect(within(panel).queryByTestId('server-token-info')).not.toBeInTheDocument();
  });

  it('asks again after a login', async () => {
    const { api, user } = await app([prodProfile]);
    await user.click(within(row('prod')).getByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    await waitFor(() => expect(api.tokenInfo).toHaveBeenCalledTimes(1));
    api.login.mockResolvedValue(done('prod'));
    await user.click(within(panel).getByTestId('login'));
    await user.click(within(await screen.findByTestId('login-dialog')).getByTestId('login-submit'));
    await screen.findByTestId('login-done');
    await waitFor(() => expect(api.tokenInfo).toHaveBeenCalledTimes(2));
  });
});

describe('the lifecycle notice', () => {
  const reminder = {
    type: 'reminder' as const,
    profile_id: 21,
    profile: 'bob',
    tenant: 'acme',
    expires_at: new Date(Date.now() + 10 * 60_000).toISOString(),
    minutes_before: 10,
    expired: false,
  };

  it('a reminder offers "Log in", which opens the login and can end in the OTP dialog', async () => {
    const { api, user } = await app([bob]);
    emit.lifecycle(reminder);
    const notice = await screen.findByTestId('lifecycle-notice');
    await user.click(within(notice).getByTestId('lifecycle-login'));
    const dialog = await screen.findByTestId('login-dialog');
    expect(within(dialog).getByTestId('login-who')).toHaveTextContent('bob @ edge · tenant acme');
    api.login.mockResolvedValue(needsOtp);
    api.submitOtp.mockResolvedValue(done('bob'));
    await user.click(within(dialog).getByTestId('login-submit'));
    const otp = await screen.findByTestId('otp-dialog');
    await user.type(within(otp).getByTestId('otp-input'), '123456{Enter}');
    expect(await screen.findByTestId('login-done')).toBeInTheDocument();
    // The notice asked for this login; it is answered.
    expect(screen.queryByTestId('lifecycle-notice')).not.toBeInTheDocument();
  });

  it('a renewal that gave up offers "Log in"; one that retries does not', async () => {
    await app([bob]);
    emit.lifecycle({
      type: 'renewal-failed',
      profile_id: 21,
      profile: 'bob',
      message: 'refresh token expired',
      first: true,
      retrying: true,
      cause: 'refused',
    });
    const notice = await screen.findByTestId('lifecycle-notice');
    expect(within(notice).queryByTestId('lifecycle-login')).not.toBeInTheDocument();
    emit.lifecycle({
      type: 'renewal-failed',
      profile_id: 21,
      profile: 'bob',
      message: 'refresh token expired',
      first: true,
      retrying: false,
      cause: 'needs-user',
    });
    expect(await screen.findByTestId('lifecycle-login')).toBeInTheDocument();
  });

  it('no "Log in" for a kind Latchkey cannot log in', async () => {
    await app([ghProfile]);
    emit.lifecycle({ ...reminder, profile_id: 8, profile: 'gh-work', tenant: null });
    const notice = await screen.findByTestId('lifecycle-notice');
    expect(within(notice).queryByTestId('lifecycle-login')).not.toBeInTheDocument();
  });
});

/** An Avassa OIDC profile: its login continues in the browser, or on another device. */
const sso: ProfileView = { ...kube, id: 23, name: 'sso', login: 'avassa-oidc', settings: {} };

const browserStep: Extract<LoginStep, { step: 'browser' }> = {
  step: 'browser',
  profile: 'sso',
  tenant: 'acme',
  url: 'https://id.example.com/authorize?client_id=latchkey&state=s1',
  redirect_uri: 'http://127.0.0.1:53682/callback',
};

/** Logs sso in, to the browser banner. */
async function toBrowser() {
  const rendered = await app([sso]);
  rendered.api.login.mockResolvedValue(browserStep);
  await rendered.user.click(within(row('sso')).getByTestId('profile-login'));
  const banner = await screen.findByTestId('login-browser');
  return { ...rendered, banner };
}

describe('a browser login', () => {
  it('waits for the browser until the redirect’s outcome arrives', async () => {
    const { api, banner } = await toBrowser();
    expect(api.login).toHaveBeenCalledWith(23, null, false);
    expect(banner).toHaveTextContent('Waiting for the browser… (sso · tenant acme)');
    expect(screen.queryByTestId('login-dialog')).not.toBeInTheDocument();
    emit.redirectOutcome({
      accepted: true,
      profile: 'sso',
      message: 'Logged in sso · tenant acme.',
    });
    expect(await screen.findByTestId('redirect-outcome')).toHaveTextContent(
      'Logged in sso · tenant acme.',
    );
    expect(screen.queryByTestId('login-browser')).not.toBeInTheDocument();
  });

  it('keeps waiting when an outcome about another login arrives', async () => {
    await toBrowser();
    emit.redirectOutcome({
      accepted: false,
      profile: null,
      message: 'no login was waiting for this redirect',
    });
    await screen.findByTestId('redirect-outcome');
    expect(screen.getByTestId('login-browser')).toBeInTheDocument();
  });

  it('shows the address to open by hand, selected whole on focus', async () => {
    const { banner } = await toBrowser();
    const url = within(banner).getByTestId('login-browser-url') as HTMLInputElement;
    expect(url).toHaveValue(browserStep.url);
    expect(url).toHaveAttribute('readonly');
    url.focus();
    expect(url.selectionStart).toBe(0);
    expect(url.selectionEnd).toBe(url.value.length);
  });

  it('shows the redirect URI to register with the provider', async () => {
    const { banner, user } = await toBrowser();
    const toggle = within(banner).getByTestId('login-browser-redirect-toggle');
    expect(toggle).toHaveTextContent('Register this redirect URI with the provider');
    await user.click(toggle);
    expect(toggle.closest('details')).toHaveAttribute('open');
    const uri = within(banner).getByTestId('login-browser-redirect-uri') as HTMLInputElement;
    expect(uri).toHaveValue('http://127.0.0.1:53682/callback');
    expect(uri).toHaveAttribute('readonly');
    uri.focus();
    expect(uri.selectionStart).toBe(0);
    expect(uri.selectionEnd).toBe(uri.value.length);
  });

  it('Copy buttons put the address and the redirect URI on the clipboard, through Rust', async () => {
    const { api, banner, user } = await toBrowser();
    const copyUrl = within(banner).getByRole('button', { name: 'Copy the authorize address' });
    expect(copyUrl).toHaveTextContent('Copy');
    await user.click(copyUrl);
    expect(api.copyPlain).toHaveBeenCalledWith(browserStep.url);
    expect(copyUrl).toHaveTextContent('Copied');
    expect(within(banner).getByTestId('login-browser-url-copy-status')).toHaveTextContent(
      'Copied the authorize address',
    );

    await user.click(within(banner).getByTestId('login-browser-redirect-toggle'));
    const copyUri = within(banner).getByRole('button', { name: 'Copy the redirect URI' });
    await user.click(copyUri);
    expect(api.copyPlain).toHaveBeenLastCalledWith('http://127.0.0.1:53682/callback');
    expect(copyUri).toHaveTextContent('Copied');
    // The login itself goes on waiting.
    expect(api.cancelLogin).not.toHaveBeenCalled();
    expect(screen.getByTestId('login-browser')).toBeInTheDocument();
  });

  it('"Copied" goes away after a moment, and a refusal says why', async () => {
    const { api, banner, user } = await toBrowser();
    const copyUrl = within(banner).getByTestId('login-browser-url-copy');
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      await user.click(copyUrl);
      expect(copyUrl).toHaveTextContent('Copied');
      await vi.advanceTimersByTimeAsync(2500);
      expect(copyUrl).toHaveTextContent(/^Copy$/);
    } finally {
      vi.useRealTimers();
    }
    api.copyPlain.mockRejectedValueOnce(
      fail({
        code: 'internal',
        field: null,
        message: 'could not write to the clipboard: no display',
      }),
    );
    await user.click(copyUrl);
    expect(within(banner).getByTestId('login-browser-url-copy-error')).toHaveTextContent(
      'could not write to the clipboard: no display',
    );
    expect(copyUrl).toHaveTextContent(/^Copy$/);
  });

  it('Cancel ends the login and removes the banner', async () => {
    const { api, banner, user } = await toBrowser();
    const before = api.listProfiles.mock.calls.length;
    await user.click(within(banner).getByTestId('login-browser-cancel'));
    expect(api.cancelLogin).toHaveBeenCalledWith(23);
    expect(screen.queryByTestId('login-browser')).not.toBeInTheDocument();
    await waitFor(() => expect(api.listProfiles.mock.calls.length).toBeGreaterThan(before));
  });

  it('dismissing hides the banner without ending the login', async () => {
    const { api, banner, user } = await toBrowser();
    await user.click(within(banner).getByTestId('login-browser-dismiss'));
    expect(screen.queryByTestId('login-browser')).not.toBeInTheDocument();
    expect(api.cancelLogin).not.toHaveBeenCalled();
  });
});

describe('a device login', () => {
  const deviceStep = (minutes = 15): Extract<LoginStep, { step: 'device' }> => ({
    step: 'device',
    profile: 'sso',
    tenant: 'acme',
    user_code: 'WDJB-MJHT',
    verification_uri: 'https://github.com/login/device',
    expires_at: new Date(Date.now() + minutes * 60_000 - 1500).toISOString(),
  });

  /** Logs sso in, to the device dialog. */
  async function toDevice(step = deviceStep()) {
    const rendered = await app([sso]);
    rendered.api.login.mockResolvedValue(step);
    await rendered.user.click(within(row('sso')).getByTestId('profile-login'));
    const dialog = await screen.findByTestId('device-dialog');
    return { ...rendered, dialog };
  }

  it('Copy puts the code, or the address, on the clipboard through Rust', async () => {
    const { api, dialog, user } = await toDevice();
    const copyCode = within(dialog).getByRole('button', { name: 'Copy the code' });
    await user.click(copyCode);
    expect(api.copyPlain).toHaveBeenCalledWith('WDJB-MJHT');
    expect(copyCode).toHaveTextContent('Copied');
    await user.click(within(dialog).getByRole('button', { name: 'Copy the address' }));
    expect(api.copyPlain).toHaveBeenLastCalledWith('https://github.com/login/device');
    // Copying neither ends the login nor closes the dialog.
    expect(api.cancelLogin).not.toHaveBeenCalled();
    expect(screen.getByTestId('device-dialog')).toBeInTheDocument();
  });

  it('shows the code, where to enter it and how long it lasts', async () => {
    const { api, dialog } = await toDevice();
    expect(api.login).toHaveBeenCalledWith(23, null, false);
    expect(dialog).toHaveRole('dialog');
    expect(dialog).toHaveAccessibleName('Log in sso · tenant acme');
    expect(dialog).toHaveTextContent('Enter this code at https://github.com/login/device');
    expect(within(dialog).getByTestId('device-code')).toHaveTextContent('WDJB-MJHT');
    const uri = within(dialog).getByTestId('device-uri') as HTMLInputElement;
    expect(uri).toHaveValue('https://github.com/login/device');
    expect(uri).toHaveAttribute('readonly');
    // The address has focus on open, selected whole.
    expect(uri).toHaveFocus();
    expect(uri.selectionStart).toBe(0);
    expect(uri.selectionEnd).toBe(uri.value.length);
    expect(within(dialog).getByTestId('device-expires')).toHaveTextContent(
      /^The code expires in 14 m 5\d s\.$/,
    );
    expect(dialog).toHaveTextContent('Latchkey is waiting for the approval…');
    expect(screen.queryByTestId('login-browser')).not.toBeInTheDocument();
  });

  it('says when the code has expired', async () => {
    const { dialog } = await toDevice({
      ...deviceStep(),
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    expect(within(dialog).getByTestId('device-expires')).toHaveTextContent('The code has expired.');
  });

  it('the countdown runs', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const { dialog } = await toDevice();
      const expires = within(dialog).getByTestId('device-expires');
      const first = expires.textContent;
      await vi.advanceTimersByTimeAsync(61_000);
      await waitFor(() => expect(expires.textContent).not.toBe(first));
      expect(expires).toHaveTextContent(/in 1[34] m \d+ s/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('Cancel ends the login and closes', async () => {
    const { api, dialog, user } = await toDevice();
    await user.click(within(dialog).getByTestId('device-cancel'));
    expect(api.cancelLogin).toHaveBeenCalledWith(23);
    expect(screen.queryByTestId('device-dialog')).not.toBeInTheDocument();
    expect(within(row('sso')).getByTestId('profile-login')).toHaveFocus();
  });

  it('Escape is Cancel', async () => {
    const { api, user } = await toDevice();
    await user.keyboard('{Escape}');
    expect(api.cancelLogin).toHaveBeenCalledWith(23);
    expect(screen.queryByTestId('device-dialog')).not.toBeInTheDocument();
  });

  it('closes when the login’s outcome arrives, which the window shows', async () => {
    const { api } = await toDevice();
    emit.redirectOutcome({
      accepted: true,
      profile: 'sso',
      message: 'Logged in sso · tenant acme.',
    });
    await waitFor(() => expect(screen.queryByTestId('device-dialog')).not.toBeInTheDocument());
    const banner = screen.getByTestId('redirect-outcome');
    expect(banner).toHaveAttribute('data-accepted', 'true');
    expect(banner).toHaveTextContent('Logged in sso · tenant acme.');
    expect(api.cancelLogin).not.toHaveBeenCalled();
  });

  it('…refused too, with the message as Rust wrote it', async () => {
    await toDevice();
    emit.redirectOutcome({
      accepted: false,
      profile: 'sso',
      message: 'the device code expired before it was approved',
    });
    await waitFor(() => expect(screen.queryByTestId('device-dialog')).not.toBeInTheDocument());
    const banner = screen.getByTestId('redirect-outcome');
    expect(banner).toHaveAttribute('data-accepted', 'false');
    expect(banner.textContent?.trim()).toBe('the device code expired before it was approved');
  });

  it('stays open for an outcome about another profile', async () => {
    await toDevice();
    emit.redirectOutcome({ accepted: true, profile: 'gh-work', message: 'Logged in gh-work.' });
    await screen.findByTestId('redirect-outcome');
    expect(screen.getByTestId('device-dialog')).toBeInTheDocument();
  });
});
