// What happened in the local stack, newest last: alarm notifications (the SNS stand-in) and the
// controller's messages to people. The dashboard shows it and streams each new entry.
export type ActivityKind = "alarm" | "notification" | "controller" | "runner";

export interface Activity {
  at: string;
  kind: ActivityKind;
  title: string;
  text: string;
}

export class ActivityFeed {
  private readonly items: Activity[] = [];
  private readonly listeners = new Set<(a: Activity) => void>();

  constructor(private readonly limit = 200) {}

  add(kind: ActivityKind, title: string, text: string, at = new Date()): Activity {
    const a: Activity = { at: at.toISOString(), kind, title, text };
    this.items.push(a);
    if (this.items.length > this.limit) this.items.shift();
    for (const l of this.listeners) l(a);
    return a;
  }

  recent(n = 50): Activity[] {
    return this.items.slice(-n);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: (a: Activity) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
