// One lifetime mechanism for everything long-lived: children registered once, disposed once, in reverse.

export interface IDisposable {
  dispose(): unknown;
}

export abstract class Disposable implements IDisposable {
  private readonly children: IDisposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected register<T extends IDisposable>(child: T): T {
    if (this.disposed) {
      child.dispose();
    } else {
      this.children.push(child);
    }
    return child;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const child of this.children.splice(0).reverse()) {
      try {
        child.dispose();
      } catch {
        // One child failing to dispose must not keep the others alive.
      }
    }
  }
}

export function toDisposable(dispose: () => void): IDisposable {
  return { dispose };
}
