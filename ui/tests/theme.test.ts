import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyTheme, SettingsStore } from '../src/stores/settings.svelte';
import { renderApp, stubApi } from './harness';

vi.mock('../src/ipc/api', () => import('./apiMock'));

const root = () => document.documentElement;

afterEach(() => {
  delete root().dataset.theme;
});

describe('the theme', () => {
  it('follows the system unless the settings choose light or dark', () => {
    applyTheme(root(), 'dark');
    expect(root()).toHaveAttribute('data-theme', 'dark');
    applyTheme(root(), 'light');
    expect(root()).toHaveAttribute('data-theme', 'light');
    applyTheme(root(), 'system');
    expect(root()).not.toHaveAttribute('data-theme');
  });

  it('the settings store reads it, and settings saved before it existed follow the system', async () => {
    const api = stubApi();
    const store = new SettingsStore();
    expect(store.theme).toBe('system');
    api.getSettings.mockResolvedValueOnce({ ...(await api.getSettings()), theme: 'dark' });
    await store.load();
    expect(store.theme).toBe('dark');
    const { theme: _theme, ...older } = await api.getSettings();
    api.getSettings.mockResolvedValueOnce(older);
    await store.load();
    expect(store.theme).toBe('system');
  });

  it('the window starts in the saved theme, and the settings switch it', async () => {
    const { api } = renderApp({ settings: { theme: 'dark' } });
    await waitFor(() => expect(root()).toHaveAttribute('data-theme', 'dark'));

    const user = userEvent.setup();
    await user.click(await screen.findByTestId('open-settings'));
    const light = await screen.findByRole('radio', { name: 'Light' });
    await waitFor(() => expect(light).toBeEnabled());
    expect(screen.getByRole('radio', { name: 'Dark' })).toBeChecked();
    await user.click(light);
    api.getSettings.mockResolvedValue({ ...(await api.getSettings()), theme: 'light' });
    await user.click(screen.getByTestId('settings-save'));
    expect(api.setSettings).toHaveBeenCalledWith(expect.objectContaining({ theme: 'light' }));
    await waitFor(() => expect(root()).toHaveAttribute('data-theme', 'light'));
  });
});
