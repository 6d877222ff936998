import { CALLBACK_STATUSES, type AbnormalUser, type CallbackStatus } from './operations';
import { requiredElement } from './required-element';

/** Sets a user's callback status through the API; rejects with a GraphQLRequestError (its `code` is shown). */
export type SetStatus = (uid: string, status: CallbackStatus) => Promise<AbnormalUser>;

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/**
 * The abnormal-order feed as a table, newest first, one row per user (keyed
 * by uid, `data-uid`). Rows are updated in place, so a select someone is
 * using is not rebuilt under their cursor when another user arrives.
 */
export class FeedView {
  private readonly rows = new Map<string, HTMLTableRowElement>();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly setStatus: SetStatus,
    private readonly onSaved: (user: AbnormalUser) => void,
  ) {}

  render(users: readonly AbnormalUser[]): void {
    const keep = new Set(users.map((u) => u.uid));
    for (const [uid, tr] of this.rows) {
      if (!keep.has(uid)) {
        tr.remove();
        this.rows.delete(uid);
      }
    }
    users.forEach((u, i) => {
      let tr = this.rows.get(u.uid);
      if (!tr) {
        const created = this.createRow(u);
        tr = created;
        this.rows.set(u.uid, tr);
        tr.classList.add('row-new');
        setTimeout(() => created.classList.remove('row-new'), 2_500);
      }
      this.fill(tr, u);
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] ?? null);
    });
    this.tbody.closest('section')?.classList.toggle('feed-empty', users.length === 0);
  }

  private createRow(u: AbnormalUser): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.uid = u.uid;
    for (const name of ['detected', 'uid', 'phone', 'count', 'status', 'note']) {
      const td = document.createElement('td');
      td.className = `col-${name}`;
      tr.append(td);
    }
    const select = document.createElement('select');
    select.dataset.uid = u.uid;
    select.setAttribute('aria-label', `callback status of ${u.uid}`);
    for (const s of CALLBACK_STATUSES) select.append(new Option(s.toLowerCase(), s));
    select.addEventListener('change', () => void this.change(tr, select));
    requiredElement(tr, '.col-status', HTMLTableCellElement).append(select);
    return tr;
  }

  private fill(tr: HTMLTableRowElement, u: AbnormalUser): void {
    const cell = (name: string) => requiredElement(tr, `.col-${name}`, HTMLTableCellElement);
    cell('detected').textContent = time(u.windowEnd);
    cell('detected').title = `window [${u.windowStart}, ${u.windowEnd})`;
    cell('uid').textContent = u.uid;
    cell('phone').textContent = u.phone;
    cell('count').textContent = String(u.enterOrderCount);
    const select = requiredElement(tr, 'select', HTMLSelectElement);
    // Not while a change is being saved: the answer sets it.
    if (select.disabled) return;
    if (u.callbackStatus) {
      select.value = u.callbackStatus;
      select.dataset.saved = u.callbackStatus;
    } else {
      select.value = 'PENDING';
    }
  }

  private async change(tr: HTMLTableRowElement, select: HTMLSelectElement): Promise<void> {
    const uid = tr.dataset.uid;
    if (uid === undefined) throw new Error('a feed row without data-uid');
    const previous = select.dataset.saved ?? 'PENDING';
    const status = select.value as CallbackStatus;
    const note = requiredElement(tr, '.col-note', HTMLTableCellElement);
    select.disabled = true;
    note.className = 'col-note note-pending';
    note.textContent = 'saving…';
    note.title = '';
    try {
      const user = await this.setStatus(uid, status);
      select.dataset.saved = user.callbackStatus ?? status;
      select.value = select.dataset.saved;
      note.className = 'col-note note-ok';
      note.textContent = 'saved';
      this.onSaved(user);
    } catch (err) {
      select.value = previous;
      const e = err as { code?: string; message?: string };
      note.className = 'col-note note-error';
      note.textContent = e.code ?? 'ERROR';
      note.title = e.message ?? String(err);
    } finally {
      select.disabled = false;
    }
  }
}
