import { requiredElement } from './required-element';

/** localStorage key of the remembered API key (this origin only). */
export const API_KEY_STORAGE = 'rt-analytics.dashboard.apiKey';

export function storedApiKey(): string | null {
  try {
    return localStorage.getItem(API_KEY_STORAGE);
  } catch {
    return null; // storage disabled: ask every time
  }
}

export function rememberApiKey(key: string | null): void {
  try {
    if (key === null) localStorage.removeItem(API_KEY_STORAGE);
    else localStorage.setItem(API_KEY_STORAGE, key);
  } catch {
    // storage disabled: the key lives as long as the page
  }
}

/**
 * Shows the key dialog (`#key-dialog`) and resolves with the key typed in,
 * already remembered. `problem` explains why it is asked again (a key the
 * service refused).
 */
export function askForApiKey(problem?: string): Promise<string> {
  const dialog = requiredElement(document, '#key-dialog', HTMLDialogElement);
  const form = requiredElement(dialog, 'form', HTMLFormElement);
  const input = requiredElement(dialog, '#api-key', HTMLInputElement);
  const error = requiredElement(dialog, '#key-error', HTMLElement);
  error.textContent = problem ?? '';
  error.hidden = !problem;
  input.value = storedApiKey() ?? '';
  if (!dialog.open) dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    const submit = (event: SubmitEvent) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        error.textContent = 'Paste an API key (viewer, crm or ops).';
        error.hidden = false;
        return;
      }
      form.removeEventListener('submit', submit);
      rememberApiKey(key);
      dialog.close();
      resolve(key);
    };
    form.addEventListener('submit', submit);
  });
}
