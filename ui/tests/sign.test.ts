// A DCI profile in the window: no token and no login, but "Sign a request"
// (Rust signs, the page sees what was signed with the signature masked, the
// signed request goes to the clipboard only) and "Check identity".

import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ProfileView, SignPreview } from '../src/ipc/api';
import { credentialOf, dci, dciProfile, signPreviewOf } from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

/** The app with `profiles` (a DCI profile first), its detail open. */
async function openDci(profiles: ProfileView[] = [dciProfile]) {
  const rendered = renderApp({ servers: [dci], profiles });
  // What Rust answers for a DCI profile: no token, only history.
  rendered.api.credential.mockImplementation(async (id) =>
    credentialOf(
      profiles.find((p) => p.id === id)!,
      { tokens: [], history: [] },
    ),
  );
  const user = userEvent.setup();
  await user.click((await screen.findAllByTestId('profile-open'))[0]);
  const panel = await screen.findByTestId('profile-detail');
  await within(panel).findByTestId('no-tokens');
  return { ...rendered, user, panel };
}

/** Opens "Sign a request" from the open detail. */
async function openSign() {
  const rendered = await openDci();
  await rendered.user.click(within(rendered.panel).getByTestId('sign-request'));
  const dialog = await screen.findByTestId('sign-dialog');
  return { ...rendered, dialog };
}

const text = (el: Element) => el.textContent?.replace(/\s+/g, ' ').trim();

describe('a DCI profile’s detail', () => {
  it('offers signing and an identity check instead of log in, copy, inspect and log out', async () => {
    const { panel } = await openDci();
    expect(within(panel).getByTestId('sign-request')).toHaveTextContent('Sign a request');
    expect(within(panel).getByTestId('check-identity')).toHaveTextContent('Check identity');
    for (const gone of ['login', 'copy-token', 'copy-curl', 'inspect-profile', 'logout'])
      expect(within(panel).queryByTestId(gone)).not.toBeInTheDocument();
    expect(within(panel).getByTestId('no-tokens')).toHaveTextContent(
      'DCI signs each request with the access key and the secret key in the keyring',
    );
  });

  it('asks the server who the key is on open, though there is no token, and again on "Check identity"', async () => {
    // Nothing is open yet: the answer is set before the detail asks.
    const { api } = renderApp({ servers: [dci], profiles: [dciProfile] });
    api.tokenInfo.mockResolvedValue([
      { name: 'access key', value: 'remoteci/0123' },
      { name: 'type', value: 'remoteci' },
      { name: 'name', value: 'lab-ci' },
    ]);
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('profile-open'));
    const panel = await screen.findByTestId('profile-detail');
    const section = await within(panel).findByTestId('server-token-info');
    expect(within(section).getByRole('heading')).toHaveTextContent('Identity');
    expect(within(section).getAllByTestId('server-info-item').map(text)).toEqual([
      'access key remoteci/0123',
      'type remoteci',
      'name lab-ci',
    ]);
    expect(api.tokenInfo).toHaveBeenCalledWith(13);
    // The detail's own button asks again; the section has no second one.
    expect(within(section).queryByTestId('server-info-load')).not.toBeInTheDocument();
    const calls = api.tokenInfo.mock.calls.length;
    await user.click(within(panel).getByTestId('check-identity'));
    await waitFor(() => expect(api.tokenInfo.mock.calls.length).toBe(calls + 1));
  });

  it('shows why the identity check failed, in Rust’s words, with progress on the button meanwhile', async () => {
    const { api, user, panel } = await openDci();
    let answer: (v: never) => void = () => {};
    api.tokenInfo.mockImplementation(
      () =>
        new Promise((_, reject) => {
          answer = reject as (v: never) => void;
        }),
    );
    await user.click(within(panel).getByTestId('check-identity'));
    const button = within(panel).getByTestId('check-identity');
    expect(button).toHaveTextContent('Checking…');
    expect(button).toBeDisabled();
    answer(
      fail({
        code: 'server-refused',
        field: null,
        message:
          'the server refused the signature: this computer’s clock is 20 min behind the server’s; set the clock right',
      }) as never,
    );
    expect(await within(panel).findByTestId('server-info-error')).toHaveTextContent(
      'this computer’s clock is 20 min behind',
    );
    expect(within(panel).getByTestId('check-identity')).toHaveTextContent('Check identity');
  });
});

describe('the "Sign a request" dialog', () => {
  it('is a labelled modal with method, URL and no body for GET, focused on the URL', async () => {
    const { dialog } = await openSign();
    expect(screen.getByRole('dialog', { name: 'Sign a request as dci-ci' })).toBe(dialog);
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    const methods = within(dialog).getByLabelText('Method');
    expect([...(methods as HTMLSelectElement).options].map((o) => o.value)).toEqual([
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'HEAD',
    ]);
    const url = within(dialog).getByLabelText('URL');
    expect(url).toHaveFocus();
    expect(url).toHaveAttribute('placeholder', '/api/v1/identity');
    expect(url).toHaveClass('mono');
    expect(url).toHaveAttribute('spellcheck', 'false');
    expect(within(dialog).queryByLabelText('Body (JSON)')).not.toBeInTheDocument();
    expect(within(dialog).getByTestId('sign-preview-empty')).toBeInTheDocument();
  });

  it('shows what Rust signs for the typed request: headers with the signature masked, canonical request, string to sign', async () => {
    const { api, user, dialog } = await openSign();
    await user.type(within(dialog).getByLabelText('URL'), '/api/v1/identity');
    await waitFor(() =>
      expect(api.signPreview).toHaveBeenLastCalledWith(13, 'GET', '/api/v1/identity', ''),
    );
    // Typing pauses before signing: not one call per key.
    expect(api.signPreview.mock.calls.length).toBeLessThan('/api/v1/identity'.length);
    const request = await within(dialog).findByTestId('sign-preview-request');
    expect(request).toHaveTextContent('GET https://api.dci.example.com/api/v1/identity');
    expect(within(dialog).getByTestId('sign-preview-host')).toHaveTextContent(
      'api.dci.example.com',
    );
    expect(within(dialog).getByTestId('sign-preview-date')).toHaveTextContent('20300101T120000Z');
    expect(within(dialog).getByTestId('sign-preview-authorization')).toHaveTextContent(
      /^DCI2-HMAC-SHA256 Credential=remoteci\/0123\/.*Signature=…$/,
    );
    const canonical = within(dialog).getByTestId('sign-canonical-request');
    expect(canonical.tagName).toBe('PRE');
    expect(canonical).toHaveClass('mono');
    expect(canonical.textContent).toBe(
      signPreviewOf('GET', '/api/v1/identity', '').canonical_request,
    );
    expect(within(dialog).getByTestId('sign-string-to-sign').textContent).toMatch(
      /^DCI2-HMAC-SHA256\n20300101T120000Z\n/,
    );
  });

  it('a method with a body shows the JSON body, which is signed; GET and HEAD send none', async () => {
    const { api, user, dialog } = await openSign();
    await user.type(within(dialog).getByLabelText('URL'), '/api/v1/jobs');
    await user.selectOptions(within(dialog).getByLabelText('Method'), 'POST');
    const body = within(dialog).getByLabelText('Body (JSON)');
    expect(body.tagName).toBe('TEXTAREA');
    await user.click(body);
    await user.paste('{"name": "job"}');
    await waitFor(() =>
      expect(api.signPreview).toHaveBeenLastCalledWith(
        13,
        'POST',
        '/api/v1/jobs',
        '{"name": "job"}',
      ),
    );
    await user.selectOptions(within(dialog).getByLabelText('Method'), 'HEAD');
    expect(within(dialog).queryByLabelText('Body (JSON)')).not.toBeInTheDocument();
    await waitFor(() =>
      expect(api.signPreview).toHaveBeenLastCalledWith(13, 'HEAD', '/api/v1/jobs', ''),
    );
    // The typed body is kept for when a method sends one again.
    await user.selectOptions(within(dialog).getByLabelText('Method'), 'PUT');
    expect(within(dialog).getByLabelText('Body (JSON)')).toHaveValue('{"name": "job"}');
  });

  it('"Copy as curl" and "Copy headers" have Rust sign and copy, and confirm with the countdown', async () => {
    const { api, user, dialog } = await openSign();
    await user.type(within(dialog).getByLabelText('URL'), '/api/v1/identity');
    await user.click(within(dialog).getByTestId('sign-copy-curl'));
    expect(api.copySignedRequest).toHaveBeenCalledWith(13, 'GET', '/api/v1/identity', '', 'curl');
    const receipt = await screen.findByTestId('copy-receipt');
    expect(text(receipt)).toBe(
      'Copied the signed curl command of dci-ci — clipboard clears in 30 s',
    );
    // The dialog stays for another copy.
    expect(screen.getByTestId('sign-dialog')).toBeInTheDocument();
    await user.click(within(dialog).getByTestId('sign-copy-headers'));
    expect(api.copySignedRequest).toHaveBeenLastCalledWith(
      13,
      'GET',
      '/api/v1/identity',
      '',
      'headers',
    );
    await waitFor(() =>
      expect(text(screen.getByTestId('copy-receipt'))).toMatch(
        /^Copied the signed request headers of dci-ci/,
      ),
    );
  });

  it('shows progress on the copy button while Rust signs', async () => {
    const { api, user, dialog } = await openSign();
    let done: () => void = () => {};
    api.copySignedRequest.mockImplementation(
      () =>
        new Promise((resolve) => {
          done = () =>
            resolve({
              profile: 'dci-ci',
              tenant: null,
              what: 'signed curl command',
              clear_after_seconds: 30,
            });
        }),
    );
    await user.type(within(dialog).getByLabelText('URL'), '/x');
    await user.click(within(dialog).getByTestId('sign-copy-curl'));
    expect(within(dialog).getByTestId('sign-copy-curl')).toHaveTextContent('Copying…');
    expect(within(dialog).getByTestId('sign-copy-curl')).toBeDisabled();
    expect(within(dialog).getByTestId('sign-copy-headers')).toBeDisabled();
    done();
    await screen.findByTestId('copy-receipt');
    expect(within(dialog).getByTestId('sign-copy-curl')).toHaveTextContent('Copy as curl');
  });

  it('an error about the URL or the method shows next to it, by Rust’s field', async () => {
    const { api, user, dialog } = await openSign();
    api.signPreview.mockRejectedValue(
      fail({
        code: 'invalid',
        field: 'url',
        message:
          "the query repeats the key 'a': dciauth cannot sign a repeated key; send each key once",
      }),
    );
    const url = within(dialog).getByLabelText('URL');
    await user.type(url, '/api/v1/jobs?a=1&a=2');
    const error = await within(dialog).findByTestId('error-url');
    expect(error).toHaveTextContent("the query repeats the key 'a'");
    expect(url).toHaveAttribute('aria-invalid', 'true');
    expect(url).toHaveAttribute('aria-describedby', error.id);
    expect(within(dialog).queryByTestId('sign-preview-request')).not.toBeInTheDocument();

    api.copySignedRequest.mockRejectedValue(
      fail({ code: 'invalid', field: 'method', message: "'GE T' is not an HTTP method" }),
    );
    await user.click(within(dialog).getByTestId('sign-copy-curl'));
    expect(await within(dialog).findByTestId('error-method')).toHaveTextContent(
      "'GE T' is not an HTTP method",
    );
    expect(screen.queryByTestId('copy-receipt')).not.toBeInTheDocument();
  });

  it('any other error (no secret key in the keyring) shows below the form, as Rust says it', async () => {
    const { api, user, dialog } = await openSign();
    api.copySignedRequest.mockRejectedValue(
      fail({
        code: 'login-required',
        field: null,
        message: "the secret key of 'dci-ci' is not in the keyring: enter it again in the profile",
      }),
    );
    await user.click(within(dialog).getByTestId('sign-copy-curl'));
    const error = await within(dialog).findByTestId('sign-error');
    expect(error).toHaveRole('alert');
    expect(error).toHaveTextContent('enter it again in the profile');
  });

  it('only the newest preview shows, when an older answer arrives late', async () => {
    const { api, user, dialog } = await openSign();
    const pending: ((p: SignPreview) => void)[] = [];
    api.signPreview.mockImplementation(
      () => new Promise<SignPreview>((resolve) => pending.push(resolve)),
    );
    const url = within(dialog).getByLabelText('URL');
    await user.type(url, '/old');
    await waitFor(() => expect(pending).toHaveLength(1));
    await user.clear(url);
    await user.type(url, '/new');
    await waitFor(() => expect(pending).toHaveLength(2));
    pending[1](signPreviewOf('GET', '/new', ''));
    await within(dialog).findByText('GET https://api.dci.example.com/new');
    pending[0](signPreviewOf('GET', '/old', ''));
    await new Promise((r) => setTimeout(r, 20));
    expect(within(dialog).getByTestId('sign-preview-request')).toHaveTextContent('/new');
  });

  it('Enter signs the preview at once and copies nothing', async () => {
    const { api, user, dialog } = await openSign();
    await user.type(within(dialog).getByLabelText('URL'), '/api/v1/identity{Enter}');
    expect(api.signPreview).toHaveBeenCalledWith(13, 'GET', '/api/v1/identity', '');
    expect(api.copySignedRequest).not.toHaveBeenCalled();
  });

  it('Escape and Close close it and give focus back to "Sign a request", leaving the detail open', async () => {
    const { user, panel } = await openSign();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('sign-dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('profile-detail')).toBe(panel);
    expect(within(panel).getByTestId('sign-request')).toHaveFocus();

    await user.click(within(panel).getByTestId('sign-request'));
    await user.click(within(await screen.findByTestId('sign-dialog')).getByTestId('sign-close'));
    expect(screen.queryByTestId('sign-dialog')).not.toBeInTheDocument();
    expect(within(panel).getByTestId('sign-request')).toHaveFocus();
  });

  it('never receives a signature: what the page holds has the masked one only', async () => {
    const { api, user, dialog } = await openSign();
    await user.type(within(dialog).getByLabelText('URL'), '/api/v1/identity');
    await within(dialog).findByTestId('sign-preview-request');
    await user.click(within(dialog).getByTestId('sign-copy-curl'));
    await screen.findByTestId('copy-receipt');
    // Every answer the page got from Rust, as it got it.
    const answers = JSON.stringify([
      ...(await Promise.all(api.signPreview.mock.results.map((r) => r.value))),
      ...(await Promise.all(api.copySignedRequest.mock.results.map((r) => r.value))),
    ]);
    expect(answers).toContain('Signature=…');
    expect(answers).not.toMatch(/Signature=[0-9a-f]/);
    expect(document.body.innerHTML).not.toMatch(/Signature=[0-9a-f]/);
  });
});
