// The one model of techniques: FLORA's documented catalogue and the slugs the user added, the details
// fetched from FLORA (cached, cleared when the key or the base URL changes), the recently used ones and the
// Techniques view's filter, with the context keys that describe them. The technique trees and pickers only
// display it.
import * as vscode from 'vscode';
import { ContextKey } from '../common/contextKeys';
import { Disposable } from '../common/lifecycle';
import { DOCUMENTED_TECHNIQUES, findDocumentedTechnique } from '../core/catalog';
import { FloraApiError } from '../core/errors';
import type { TechniqueDetails } from '../core/schemas';
import type { FloraConnection } from './floraConnection';
import type { KeyStore } from './keyStore';
import type { Settings } from './settings';

const RECENT_TECHNIQUES_KEY = 'flora.recentTechniques';
const RECENT_LIMIT = 10;

/** A technique as the views list it. */
export interface CatalogEntry {
  slug: string;
  name: string;
  /** Undefined for an added technique whose details have not been fetched yet. */
  description: string | undefined;
  /** The user added it (it is not one of FLORA's documented techniques). */
  added: boolean;
}

/** What changed: the details of one technique (its slug), or the list as a whole (undefined). */
export type CatalogChange = string | undefined;

export interface TechniqueCatalogOptions {
  connection: FloraConnection;
  settings: Settings;
  keys: KeyStore;
  /** Global state: the recently used techniques are kept there. */
  memento: vscode.Memento;
}

export class TechniqueCatalog extends Disposable {
  private readonly details = new Map<string, TechniqueDetails>();
  private readonly inFlight = new Map<string, Promise<TechniqueDetails>>();
  private filterText = '';
  private readonly changed = this.register(new vscode.EventEmitter<CatalogChange>());
  /** The details of a technique were fetched (its slug), or the list, the filter or the cache changed (undefined). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly options: TechniqueCatalogOptions) {
    super();
    let { baseUrl, techniques } = options.settings.current;
    this.register(
      options.settings.onDidChange((settings) => {
        if (settings.baseUrl !== baseUrl) {
          baseUrl = settings.baseUrl;
          this.clear();
        } else if (settings.techniques.join('\n') !== techniques.join('\n')) {
          this.changed.fire(undefined);
        }
        techniques = settings.techniques;
        void this.updateAddedContext();
      }),
    );
    // Another key may see other techniques (a team's private ones): fetch them again.
    this.register(options.keys.onDidChange((hasKey) => hasKey && this.clear()));
    void this.updateAddedContext();
  }

  /** FLORA's documented techniques by name (as a person looks for them), filtered by the Techniques view's filter. */
  documented(): CatalogEntry[] {
    const all = byName();
    const needle = this.filterText.toLowerCase();
    if (!needle) return all;
    return all.filter((technique) =>
      [technique.slug, technique.name, technique.description ?? ''].some((text) => text.toLowerCase().includes(needle)),
    );
  }

  /** The techniques the user added that are not documented ones, newest first, named from FLORA's details once fetched. */
  added(): CatalogEntry[] {
    return this.addedSlugs()
      .filter((slug) => !findDocumentedTechnique(slug))
      .map((slug) => {
        const details = this.details.get(slug);
        return { slug, name: details?.name ?? slug, description: details?.description, added: true };
      });
  }

  /** Every technique, documented and added, unfiltered: what the Run Technique picker offers. */
  all(): CatalogEntry[] {
    return [...byName(), ...this.added()];
  }

  /** The slugs in flora.techniques, as the user wrote them (documented ones included). */
  addedSlugs(): readonly string[] {
    return this.options.settings.current.techniques;
  }

  isAdded(slug: string): boolean {
    return this.addedSlugs().includes(slug);
  }

  /** Adds a slug to the user's list (first); resolves once the settings hold it. */
  async add(slug: string): Promise<void> {
    const current = this.addedSlugs();
    if (!current.includes(slug)) await this.options.settings.updateAddedTechniques([slug, ...current]);
  }

  async remove(slug: string): Promise<void> {
    await this.options.settings.updateAddedTechniques(this.addedSlugs().filter((item) => item !== slug));
  }

  get filter(): string {
    return this.filterText;
  }

  /** Filters the documented techniques by name, slug or description; '' shows them all. */
  async setFilter(text: string): Promise<void> {
    this.filterText = text.trim();
    await vscode.commands.executeCommand('setContext', ContextKey.techniqueFilterActive, this.filterText.length > 0);
    this.changed.fire(undefined);
  }

  cached(slug: string): TechniqueDetails | undefined {
    return this.details.get(slug);
  }

  /**
   * Fetches a technique's details once; later calls answer from the cache unless `refresh`. A technique the
   * user added that FLORA does not know rejects with the remedy of taking it off the list.
   */
  async get(slug: string, options: { signal?: AbortSignal; refresh?: boolean } = {}): Promise<TechniqueDetails> {
    const cached = this.details.get(slug);
    if (cached && !options.refresh) return cached;
    let pending = this.inFlight.get(slug);
    if (!pending) {
      pending = this.options.connection
        .client()
        .getTechnique(slug, { signal: options.signal })
        .then((details) => {
          this.details.set(slug, details);
          this.changed.fire(slug);
          return details;
        })
        .finally(() => this.inFlight.delete(slug));
      this.inFlight.set(slug, pending);
    }
    try {
      return await pending;
    } catch (error) {
      if (error instanceof FloraApiError && error.code === 'not_found' && this.isAdded(slug))
        error.remedy = { kind: 'removeTechnique', slug };
      throw error;
    }
  }

  /** Forgets every technique's details: the views fetch them again when shown. */
  clear(): void {
    this.details.clear();
    this.changed.fire(undefined);
  }

  recent(): string[] {
    return this.options.memento.get<string[]>(RECENT_TECHNIQUES_KEY, []);
  }

  async rememberRecent(slug: string): Promise<void> {
    const recent = [slug, ...this.recent().filter((item) => item !== slug)].slice(0, RECENT_LIMIT);
    await this.options.memento.update(RECENT_TECHNIQUES_KEY, recent);
  }

  private async updateAddedContext(): Promise<void> {
    // What Your Techniques lists: a documented slug in the setting is shown in Techniques, not there.
    await vscode.commands.executeCommand('setContext', ContextKey.hasAddedTechniques, this.added().length > 0);
  }
}

/** The documented techniques ordered by name, as a person scans a list for one ("Segment Mapper" under S). */
function byName(): CatalogEntry[] {
  return DOCUMENTED_TECHNIQUES.map((technique): CatalogEntry => ({ ...technique, added: false })).sort((a, b) =>
    a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }),
  );
}
