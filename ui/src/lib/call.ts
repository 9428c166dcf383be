// The one door to the Rust side: every generated wrapper in commands.ts goes
// through here, so errors reach the UI normalised to {code, message} (CommandError).
import { invoke } from '@tauri-apps/api/core';
import { toErrorPayload } from './errors';

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toErrorPayload(e);
  }
}
