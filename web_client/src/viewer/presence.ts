// Who else has this slide open: their names and colours in the top bar, and,
// for those who chose to share it, the outline of what they are looking at.
// Sharing my own view is off by default. A heartbeat every 10 s keeps me
// listed (the server drops me 30 s after the last), and leaving says so.
import type Map from 'ol/Map';
import Feature from 'ol/Feature';
import Polygon from 'ol/geom/Polygon';
import VectorLayer from 'ol/layer/Vector';
import VectorSource from 'ol/source/Vector';
import { Stroke, Style, Text, Fill } from 'ol/style';
import { presence as api, getCurrentUser, type PresenceAnswer } from '../api';
import { colleagues, extentToViewport, initials, viewportRing, type ListedUser, type PresenceList, type PresentUser } from '../lib/presence-logic';
import type { NotificationStream } from '../stream';
import type { TileMetadata } from '../types';
import { h, replace } from '../ui/dom';

export const HEARTBEAT_MS = 10000;
/** Shared viewport updates at most this often (the server's limit is 4/s). */
const MOVE_THROTTLE_MS = 250;
const SHARE_KEY = 'tilery.shareView';

function outlineLayer(source: VectorSource): VectorLayer {
  return new VectorLayer({
    source, zIndex: 40,
    style: (f) => new Style({
      stroke: new Stroke({ color: f.get('color'), width: 2, lineDash: [8, 6] }),
      text: new Text({ text: f.get('name'), placement: 'point', textAlign: 'left', offsetY: -10, font: '12px sans-serif', fill: new Fill({ color: f.get('color') }) }),
    }),
  });
}

/** Names are written out for this many colleagues; beyond, initials only. */
const NAMED = 3;

function badge(u: PresentUser, named: boolean): HTMLElement {
  return h('span.presence-entry', { title: `${u.name} (${u.login})${u.viewport ? ', sharing their view' : ''}` },
    h('span.presence-user', { dataset: { userId: u.userId }, style: { background: u.color } }, initials(u.name)),
    named ? h('span.presence-name', null, u.name) : null);
}

export class Presence {
  readonly el: HTMLElement;
  private readonly people = h('span.presence-people');
  private readonly source = new VectorSource();
  private readonly layer = outlineLayer(this.source);
  private state: PresenceList | null = null;
  private others: PresentUser[] = [];
  private seq = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private moveTimer: ReturnType<typeof setTimeout> | null = null;
  private sharing = false;
  private offStream: () => void = () => undefined;
  private readonly onMove = () => this.viewMoved();
  private readonly onHide = () => void api.leave(this.itemId).catch(() => undefined);

  constructor(private readonly map: Map, private readonly meta: TileMetadata, private readonly itemId: string, stream: NotificationStream | null) {
    const toggle = h('input', { type: 'checkbox', 'aria-label': 'Share my view' });
    try {
      this.sharing = localStorage.getItem(SHARE_KEY) === 'on';
    } catch {
      // Storage blocked: not shared.
    }
    toggle.checked = this.sharing;
    toggle.onchange = () => this.setSharing(toggle.checked);
    this.el = h('div.presence', null, this.people, h('label.presence-share', { title: 'Let others on this slide see the outline of your view' }, toggle, 'Share my view'));
    map.addLayer(this.layer);
    map.on('moveend', this.onMove);
    this.offStream = stream?.on('presence', (ev) => {
      const data = ev.data as { itemId?: string; users?: PresentUser[] };
      if (data.itemId === this.itemId && Array.isArray(data.users)) this.show(data.users);
    }) ?? (() => undefined);
    window.addEventListener('pagehide', this.onHide);
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    void this.beat();
  }

  /** Colleagues listed now (without me). */
  get present(): PresentUser[] {
    return this.others;
  }

  setSharing(on: boolean): void {
    this.sharing = on;
    try {
      localStorage.setItem(SHARE_KEY, on ? 'on' : 'off');
    } catch {
      // Not remembered.
    }
    void this.beat();
  }

  private viewport(): number[] | null {
    if (!this.sharing) return null;
    const size = this.map.getSize();
    return size ? extentToViewport(this.map.getView().calculateExtent(size), this.meta.sizeX, this.meta.sizeY) : null;
  }

  private viewMoved(): void {
    if (!this.sharing || this.moveTimer) return;
    this.moveTimer = setTimeout(() => {
      this.moveTimer = null;
      void this.beat();
    }, MOVE_THROTTLE_MS);
  }

  private async beat(): Promise<void> {
    try {
      const answer: PresenceAnswer = await api.heartbeat(this.itemId, this.viewport());
      this.show(answer.users);
    } catch {
      // A missed heartbeat is retried by the next; the list stays as it was.
    }
  }

  private show(users: ListedUser[]): void {
    this.seq += 1;
    const merged = colleagues(this.state, { users, at: this.seq }, getCurrentUser()?._id ?? null);
    this.state = { users: merged.users, at: merged.at };
    this.others = merged.others;
    replace(this.people, this.others.map((u) => badge(u, this.others.length <= NAMED)));
    this.people.hidden = !this.others.length;
    this.source.clear(true);
    this.source.addFeatures(this.others.filter((u) => u.viewport).map((u) => {
      const f = new Feature({ geometry: new Polygon([viewportRing(u.viewport!)]) });
      f.setProperties({ color: u.color, name: u.name });
      return f;
    }));
  }

  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.moveTimer) clearTimeout(this.moveTimer);
    this.offStream();
    window.removeEventListener('pagehide', this.onHide);
    this.map.un('moveend', this.onMove);
    this.map.removeLayer(this.layer);
    void api.leave(this.itemId).catch(() => undefined);
  }
}
