import type { ConnectionEvent } from './api-client';

const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/**
 * The header's connection indicator, driven by graphql-ws's client events:
 * `data-state` is `connecting` (before the first connection), `live`, or
 * `down` (the socket closed; graphql-ws retries with backoff). It says when
 * the connection dropped, how many attempts were made, and when and after
 * how long it came back.
 */
export class ConnectionIndicator {
  private everConnected = false;
  private downSince: number | null = null;
  private attempts = 0;
  /** Drops seen since the page loaded (read by the browser test). */
  drops = 0;
  /** Reconnections seen since the page loaded (read by the browser test). */
  reconnections = 0;

  constructor(private readonly el: HTMLElement) {
    this.show('connecting', 'Connecting…', '');
  }

  on(e: ConnectionEvent): void {
    const now = Date.now();
    switch (e.kind) {
      case 'connecting':
        if (e.retry) {
          this.attempts++;
          if (this.downSince !== null)
            this.show(
              'down',
              `Connection lost at ${clock(this.downSince)} — reconnecting (attempt ${this.attempts})…`,
              'updates are paused; the page catches up when the connection is back',
            );
        }
        return;
      case 'connected':
        if (this.downSince !== null) {
          const downS = Math.round((now - this.downSince) / 1000);
          this.reconnections++;
          this.show(
            'live',
            `Live · reconnected at ${clock(now)} after ${downS} s`,
            `connection lost at ${clock(this.downSince)}; missed updates were reloaded`,
          );
        } else {
          this.show('live', 'Live', `connected at ${clock(now)}`);
        }
        this.everConnected = true;
        this.downSince = null;
        this.attempts = 0;
        return;
      case 'closed':
        if (this.downSince === null) {
          this.downSince = now;
          if (this.everConnected) this.drops++;
        }
        this.show(
          'down',
          this.everConnected
            ? `Connection lost at ${clock(this.downSince)} — reconnecting…`
            : 'Cannot reach the service — retrying…',
          e.reason ? `closed: ${e.code} ${e.reason}` : `closed: ${e.code}`,
        );
        return;
    }
  }

  private show(state: 'connecting' | 'live' | 'down', text: string, title: string): void {
    this.el.dataset.state = state;
    this.el.textContent = text;
    this.el.title = title;
  }
}
