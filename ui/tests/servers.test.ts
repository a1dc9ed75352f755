import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { avassa, edgeProfile, github } from './fixtures';
import { fail, renderApp } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

async function openServerForm() {
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('add-server'));
  return { user, dialog: await screen.findByRole('dialog', { name: 'Add server' }) };
}

describe('servers', () => {
  it('with no servers, explains what to do first and offers to add a server', async () => {
    renderApp();
    const empty = await screen.findByTestId('empty-state');
    expect(empty).toHaveTextContent(/add a server/i);
    expect(empty).toHaveTextContent(/then add a profile/i);
    await userEvent.setup().click(within(empty).getByRole('button', { name: 'Add server' }));
    expect(await screen.findByRole('dialog', { name: 'Add server' })).toBeInTheDocument();
  });

  it('lists each server with its kind and URL', async () => {
    renderApp({ servers: [avassa, github] });
    const items = await screen.findAllByTestId('server-item');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('edge');
    expect(items[0]).toHaveTextContent('Avassa');
    expect(items[0]).toHaveTextContent('https://api.edge.example.com');
    expect(items[1]).toHaveTextContent('GitHub');
    expect(screen.queryByTestId('empty-state')).not.toBeInTheDocument();
  });

  it('adding a server sends the typed input, closes the form and reloads', async () => {
    const { api } = renderApp();
    const { user } = await openServerForm();
    await user.type(screen.getByTestId('server-name'), 'prod-eu');
    await user.selectOptions(screen.getByTestId('server-kind'), 'avassa');
    await user.type(screen.getByTestId('server-url'), 'https://api.prod.example.com');
    api.listServers.mockResolvedValue([avassa]);
    await user.click(screen.getByTestId('server-save'));

    expect(api.addServer).toHaveBeenCalledWith({
      name: 'prod-eu',
      kind: 'avassa',
      url: 'https://api.prod.example.com',
      ca_pem: null,
    });
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(await screen.findByTestId('server-item')).toHaveTextContent('edge');
  });

  it('kind choices come from the catalog', async () => {
    renderApp();
    await openServerForm();
    const options = within(screen.getByTestId('server-kind'))
      .getAllByRole('option')
      .map((o) => (o as HTMLOptionElement).value);
    expect(options).toEqual(['kontinuous', 'github', 'avassa', 'dci', 'quay']);
  });

  it('an invalid URL shows the message next to the URL field and keeps the form open', async () => {
    const { api } = renderApp();
    api.addServer.mockRejectedValue(
      fail({ code: 'invalid', field: 'url', message: 'enter a full URL starting with https://' }),
    );
    const { user, dialog } = await openServerForm();
    await user.type(screen.getByTestId('server-name'), 'x');
    await user.type(screen.getByTestId('server-url'), 'nope{Enter}');

    const error = await screen.findByTestId('error-url');
    expect(error).toHaveTextContent('enter a full URL starting with https://');
    expect(screen.getByTestId('server-url')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('form-error')).not.toBeInTheDocument();
    expect(dialog).toBeInTheDocument();
  });

  it('a name conflict shows next to the name; other errors show at the top of the form', async () => {
    const { api } = renderApp();
    api.addServer.mockRejectedValueOnce(
      fail({ code: 'conflict', field: 'name', message: "a server named 'x' already exists" }),
    );
    const { user } = await openServerForm();
    await user.type(screen.getByTestId('server-name'), 'x');
    await user.click(screen.getByTestId('server-save'));
    expect(await screen.findByTestId('error-name')).toHaveTextContent('already exists');

    api.addServer.mockRejectedValueOnce(
      fail({ code: 'storage', field: null, message: 'database is locked' }),
    );
    await user.click(screen.getByTestId('server-save'));
    expect(await screen.findByTestId('form-error')).toHaveTextContent('database is locked');
    expect(screen.queryByTestId('error-name')).not.toBeInTheDocument();
  });

  it('editing a server starts from its values and updates it by id', async () => {
    const { api } = renderApp({ servers: [github] });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('server-edit'));
    const url = screen.getByTestId('server-url');
    expect(url).toHaveValue('https://github.com');
    await user.clear(url);
    await user.type(url, 'https://ghe.example.com');
    await user.click(screen.getByTestId('server-save'));
    expect(api.updateServer).toHaveBeenCalledWith(2, {
      name: 'gh',
      kind: 'github',
      url: 'https://ghe.example.com',
      ca_pem: null,
    });
  });

  it('removing a server that has profiles asks again with the server’s message, then cascades', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    const message = "server 'edge' has 1 profile (edge-alice); remove it too (--cascade)";
    api.removeServer.mockImplementation(async (_name, cascade) => {
      if (!cascade) throw fail({ code: 'needs-confirmation', field: null, message });
    });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('server-remove'));
    await user.click(screen.getByTestId('confirm-remove'));

    expect(api.removeServer).toHaveBeenLastCalledWith('edge', false);
    expect(await screen.findByRole('dialog')).toHaveTextContent(message);
    await user.click(screen.getByTestId('confirm-cascade'));

    expect(api.removeServer).toHaveBeenLastCalledWith('edge', true);
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
  });

  it('only multi-tenant servers list tenants and offer to add one', async () => {
    renderApp({ servers: [avassa, github] });
    const [edge, gh] = await screen.findAllByTestId('server-item');
    expect(within(edge).getAllByTestId('tenant-item')).toHaveLength(1);
    expect(within(edge).getByTestId('tenant-item')).toHaveTextContent('acme');
    expect(within(edge).getByTestId('tenant-name')).toBeInTheDocument();
    expect(within(gh).queryByTestId('tenant-name')).not.toBeInTheDocument();
  });

  it('adding a tenant calls addTenant; a refused name shows next to the input', async () => {
    const { api } = renderApp({ servers: [avassa] });
    const user = userEvent.setup();
    await user.type(await screen.findByTestId('tenant-name'), 'beta{Enter}');
    expect(api.addTenant).toHaveBeenCalledWith('edge', 'beta');
    expect(screen.getByTestId('tenant-name')).toHaveValue('');

    api.addTenant.mockRejectedValueOnce(
      fail({ code: 'invalid', field: 'tenant', message: 'a tenant name uses lower-case letters' }),
    );
    await user.type(screen.getByTestId('tenant-name'), 'Bad');
    await user.click(screen.getByTestId('tenant-add'));
    expect(await screen.findByTestId('error-tenant')).toHaveTextContent('lower-case letters');
    expect(screen.getByTestId('tenant-name')).toHaveValue('Bad');
  });

  it('removing a tenant that has profiles also asks before cascading', async () => {
    const { api } = renderApp({ servers: [avassa], profiles: [edgeProfile] });
    api.removeTenant.mockRejectedValueOnce(
      fail({ code: 'needs-confirmation', field: null, message: "tenant 'acme' has profiles" }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tenant-remove'));
    await user.click(screen.getByTestId('confirm-remove'));
    expect(await screen.findByTestId('confirm-cascade')).toBeInTheDocument();
    expect(screen.getByRole('dialog')).toHaveTextContent("tenant 'acme' has profiles");
    await user.click(screen.getByTestId('confirm-cascade'));
    expect(api.removeTenant).toHaveBeenLastCalledWith('edge', 'acme', true);
  });

  it('a removal refused for another reason shows the message and offers no cascade', async () => {
    const { api } = renderApp({ servers: [github] });
    api.removeServer.mockRejectedValue(
      fail({ code: 'keyring-unavailable', field: null, message: 'the keyring is locked' }),
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('server-remove'));
    await user.click(screen.getByTestId('confirm-remove'));
    expect(await screen.findByTestId('form-error')).toHaveTextContent('the keyring is locked');
    expect(screen.queryByTestId('confirm-cascade')).not.toBeInTheDocument();
  });
});
