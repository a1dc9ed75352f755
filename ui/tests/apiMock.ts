// A stand-in for src/ipc/api.ts: every export is a spy (see harness.ts).
import { vi } from 'vitest';
import type * as Api from '../src/ipc/api';

type Fn<K extends keyof typeof Api> = (typeof Api)[K];

export const appInfo = vi.fn<Fn<'appInfo'>>();
export const catalog = vi.fn<Fn<'catalog'>>();
export const listServers = vi.fn<Fn<'listServers'>>();
export const addServer = vi.fn<Fn<'addServer'>>();
export const updateServer = vi.fn<Fn<'updateServer'>>();
export const removeServer = vi.fn<Fn<'removeServer'>>();
export const addTenant = vi.fn<Fn<'addTenant'>>();
export const removeTenant = vi.fn<Fn<'removeTenant'>>();
export const listProfiles = vi.fn<Fn<'listProfiles'>>();
export const addProfile = vi.fn<Fn<'addProfile'>>();
export const updateProfile = vi.fn<Fn<'updateProfile'>>();
export const removeProfile = vi.fn<Fn<'removeProfile'>>();
export const getSettings = vi.fn<Fn<'getSettings'>>();
export const setSettings = vi.fn<Fn<'setSettings'>>();
export const redirectOutcomes = vi.fn<Fn<'redirectOutcomes'>>();
export const uiReady = vi.fn<Fn<'uiReady'>>();
export const onRedirectOutcome = vi.fn<Fn<'onRedirectOutcome'>>();
export const onDataChanged = vi.fn<Fn<'onDataChanged'>>();
export const onFocusProfile = vi.fn<Fn<'onFocusProfile'>>();
export const onLifecycle = vi.fn<Fn<'onLifecycle'>>();
export const copyToken = vi.fn<Fn<'copyToken'>>();
export const copyPlain = vi.fn<Fn<'copyPlain'>>();
export const credential = vi.fn<Fn<'credential'>>();
export const logout = vi.fn<Fn<'logout'>>();
export const renewNow = vi.fn<Fn<'renewNow'>>();
export const inspectToken = vi.fn<Fn<'inspectToken'>>();
export const verifyToken = vi.fn<Fn<'verifyToken'>>();
export const login = vi.fn<Fn<'login'>>();
export const submitOtp = vi.fn<Fn<'submitOtp'>>();
export const cancelLogin = vi.fn<Fn<'cancelLogin'>>();
export const tokenInfo = vi.fn<Fn<'tokenInfo'>>();
export const signPreview = vi.fn<Fn<'signPreview'>>();
export const copySignedRequest = vi.fn<Fn<'copySignedRequest'>>();
