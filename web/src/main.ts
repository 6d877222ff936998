import { askForApiKey, rememberApiKey, storedApiKey } from './api-key';
import { Dashboard, type DashboardHandle } from './dashboard';
import { requiredElement } from './required-element';
import './style.css';

declare global {
  interface Window {
    /** The running dashboard (charts, counters): read by the browser test. */
    __dashboard?: DashboardHandle;
  }
}

/** Runs the dashboard with a key; a key the service refuses is forgotten and another one asked for. */
async function run(problem?: string): Promise<void> {
  const key = problem === undefined ? (storedApiKey() ?? (await askForApiKey())) : await askForApiKey(problem);
  let refused = false;
  const dashboard = new Dashboard(key, (message) => {
    if (refused) return;
    refused = true;
    rememberApiKey(null);
    void dashboard.stop().then(() => run(`The service refused this key: ${message}`));
  });
  window.__dashboard = dashboard.handle;
  await dashboard.start();
}

requiredElement(document, '#change-key', HTMLElement).addEventListener('click', () => {
  // A new key is a new identity for every subscription: start afresh.
  void askForApiKey().then(() => window.location.reload());
});

void run();
