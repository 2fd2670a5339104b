// The Runs view's filter: which runs it lists, by technique, by where they stand (running, completed,
// failed, stopped following) and by text. A model apart from the tree, as the Techniques view's filter is
// (services/techniqueCatalog.ts): the tree only asks it which runs match, and it alone owns the context key
// that switches the view's Filter / Clear Filter buttons and its "nothing matches" welcome.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ContextKey } from '../common/contextKeys';
import { labelText } from '../common/inert';
import { Disposable } from '../common/lifecycle';
import type { RunRecord } from '../core/runs';
import type { RunsStore } from '../services/runsStore';
import { runStanding, type RunStanding } from './runLabels';

export const RUN_STANDINGS: readonly RunStanding[] = ['live', 'completed', 'failed', 'stopped'];

export interface RunsFilterCriteria {
  /** A technique's slug. */
  technique?: string;
  standing?: RunStanding;
  /**
   * Found, ignoring case, in the technique's name or slug, the run's text inputs, the names of the local
   * files it was given, its runId, or the names of the files its outputs were saved to.
   */
  text?: string;
}

/** Whether a run is one the criteria keep. */
export function matchesRun(record: RunRecord, criteria: RunsFilterCriteria): boolean {
  if (criteria.technique !== undefined && record.slug !== criteria.technique) return false;
  if (criteria.standing !== undefined && runStanding(record) !== criteria.standing) return false;
  const needle = normalise(criteria.text ?? '');
  if (needle.length === 0) return true;
  return searchableTexts(record).some((text) => normalise(text).includes(needle));
}

/** What text is matched against: what the user sees of a run or typed into it, not the URLs FLORA was sent. */
function searchableTexts(record: RunRecord): string[] {
  const texts = [record.techniqueName, record.slug];
  if (record.runId) texts.push(record.runId);
  for (const input of record.inputs) {
    // A URL contains "https", "flora", "png"…: matching it would keep almost every run.
    if (input.type === 'text') texts.push(input.value);
    if (input.localPath !== undefined) texts.push(path.basename(input.localPath));
  }
  for (const saved of record.savedOutputs ?? []) texts.push(path.basename(saved.file));
  return texts;
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase().trim();
}

export function isActive(criteria: RunsFilterCriteria): boolean {
  return criteria.technique !== undefined || criteria.standing !== undefined || (criteria.text ?? '').trim().length > 0;
}

export function standingLabel(standing: RunStanding): string {
  switch (standing) {
    case 'live':
      return vscode.l10n.t('running');
    case 'completed':
      return vscode.l10n.t('completed');
    case 'failed':
      return vscode.l10n.t('failed');
    case 'stopped':
      return vscode.l10n.t('stopped following');
  }
}

export interface RunsFilterOptions {
  /** Sets the context key; tests that build their own filter keep the window's key as it is. */
  setContext?: (active: boolean) => Thenable<unknown>;
}

export class RunsFilter extends Disposable {
  private current: RunsFilterCriteria = {};
  private readonly changed = this.register(new vscode.EventEmitter<RunsFilterCriteria>());
  readonly onDidChange = this.changed.event;
  private readonly setContext: (active: boolean) => Thenable<unknown>;

  constructor(options: RunsFilterOptions = {}) {
    super();
    this.setContext = options.setContext ?? ((active) => vscode.commands.executeCommand('setContext', ContextKey.runsFilterActive, active));
  }

  get criteria(): RunsFilterCriteria {
    return { ...this.current };
  }

  get active(): boolean {
    return isActive(this.current);
  }

  matches(record: RunRecord): boolean {
    return matchesRun(record, this.current);
  }

  /** Replaces the criteria; an empty text is no text. */
  async set(criteria: RunsFilterCriteria): Promise<void> {
    const text = criteria.text?.trim();
    this.current = {
      ...(criteria.technique !== undefined ? { technique: criteria.technique } : {}),
      ...(criteria.standing !== undefined ? { standing: criteria.standing } : {}),
      ...(text ? { text } : {}),
    };
    await this.setContext(this.active);
    this.changed.fire(this.criteria);
  }

  async clear(): Promise<void> {
    await this.set({});
  }

  /**
   * The filter in the user's words, made inert for a label: 'failed · Studio Shot · "lamp"'. `techniqueName`
   * names the slug (the newest run's name for it), undefined when the filter is off.
   */
  describe(techniqueName: (slug: string) => string): string | undefined {
    if (!this.active) return undefined;
    const parts: string[] = [];
    if (this.current.standing !== undefined) parts.push(standingLabel(this.current.standing));
    if (this.current.technique !== undefined) parts.push(labelText(techniqueName(this.current.technique)));
    if (this.current.text !== undefined)
      parts.push(vscode.l10n.t({ message: '"{0}"', args: [labelText(this.current.text)], comment: 'the text the runs are filtered by' }));
    return parts.join(' · ');
  }
}

/** The technique's name as the newest run of it says, or the slug when no run has it any more. */
export function techniqueNameIn(runs: RunsStore, slug: string): string {
  return runs.all().find((record) => record.slug === slug)?.techniqueName ?? slug;
}
