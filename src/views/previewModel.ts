// What the run preview shows, as text, and the messages between the page and the extension. Apart from
// PreviewPanels so the host tests can read it: a second PreviewPanels cannot register its serializer beside
// the extension's.
import * as vscode from 'vscode';
import { isLoadableUrl, outputKind, type RunRecord } from '../core/runs';
import type { TechniqueDetails } from '../core/schemas';
import type { FloraConnection } from '../services/floraConnection';
import type { ConnectionState } from '../services/runsStore';
import type { FloraSettings } from '../services/settings';
import { runErrorText } from '../services/userText';
import { savedOutputOf, savedPathText, statusLabel } from './runLabels';

export interface PreviewInput {
  index: number;
  id: string;
  /** The input's name in the technique's details, or its id when no name is known. */
  label: string;
  type: string;
  /** The text, the URL, or for a local file where it came from. */
  value: string;
  /** An image input: the extension may send a thumbnail of it (an `inputThumbnail` message). */
  image: boolean;
}

export interface PreviewOutput {
  index: number;
  /** The heading: the output's name in the technique's details, else its id, else "Output 2". */
  title: string;
  outputId: string;
  type: string;
  kind: 'image' | 'video' | 'text' | 'other';
  url: string;
  /** False for URLs the page must not load or link (javascript:, data:, http: off the sandbox…). */
  loadable: boolean;
  /** Where the output was saved, relative to the workspace; empty when it was not saved. */
  savedPath: string;
  /** "Saved as flora-outputs/…", or empty. */
  savedText: string;
  /** The zoom button's accessible names, with the output's name in them. */
  zoom: { toActual: string; zoomIn: string; toFit: string };
}

export interface PreviewModel {
  localId: string;
  techniqueName: string;
  slug: string;
  runId: string;
  status: string;
  statusText: string;
  progress: number;
  /** The progress as shown, e.g. "40%" (placed as the language places percent signs). */
  progressText: string;
  cost: string;
  startedAt: string;
  completedAt: string;
  inputs: PreviewInput[];
  outputs: PreviewOutput[];
  /** The run's error as one line: code and message. */
  errorText: string;
  /** Whether the page offers Save to Workspace: the run completed, an output is not saved, flora.saveOutputs is not "never". */
  offerSave: boolean;
  /** The page's own words, translated here: the page has no access to vscode.l10n. */
  labels: PreviewLabels;
}

export interface PreviewLabels {
  technique: string;
  runId: string;
  started: string;
  finished: string;
  inputs: string;
  noOutputs: string;
  outputsPending: string;
  notLoadable: string;
  imageAlt: string;
  copyUrl: string;
  insert: string;
  download: string;
  openExternal: string;
  openSaved: string;
  save: string;
  /** The image's state under it, after its size: "512 × 512 · Fitted to the panel · Click to show at actual size". */
  shownFitted: string;
  shownActual: string;
  shownZoomed: string;
  hintToActual: string;
  hintZoomIn: string;
  hintToFit: string;
}

export type ExtensionToPreviewMessage =
  | { type: 'run'; run: PreviewModel }
  | { type: 'gone'; text: string }
  /**
   * An image input's bytes (base64), which the extension fetched or read and checked are an image of
   * `mediaType` by their signature; `index` is the input's. The page decodes them onto a canvas: no URL is
   * loaded, so the CSP admits no source for them.
   */
  | { type: 'inputThumbnail'; index: number; mediaType: ThumbnailMediaType; base64: string };

/** The image types a thumbnail may be: what the page can decode, and what the signature check recognises. */
export const THUMBNAIL_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ThumbnailMediaType = (typeof THUMBNAIL_MEDIA_TYPES)[number];

export function isThumbnailMediaType(value: string): value is ThumbnailMediaType {
  return (THUMBNAIL_MEDIA_TYPES as readonly string[]).includes(value);
}

export type PreviewToExtensionMessage =
  | { type: 'ready' }
  | { type: 'copyUrl'; index: number }
  | { type: 'insert'; index: number }
  | { type: 'download'; index: number }
  | { type: 'openExternal'; index: number }
  | { type: 'openSaved'; index: number }
  | { type: 'save' };

/** What the model is made from besides the record. */
export interface PreviewSources {
  connection: Pick<FloraConnection, 'extraOrigins'>;
  runs: { connectionOf(localId: string): ConnectionState | undefined };
  saveOutputs: FloraSettings['saveOutputs'];
  /** The technique's details, when known: the names of its inputs and outputs. */
  details?: TechniqueDetails;
}

export function isImageInput(input: { type: string }): boolean {
  return input.type === 'imageUrl';
}

/** The page's model of a run: everything it shows, as text. */
export function previewModel(record: RunRecord, sources: PreviewSources): PreviewModel {
  const extra = sources.connection.extraOrigins();
  const cost = record.chargedCost ?? record.runCost;
  return {
    localId: record.localId,
    techniqueName: record.techniqueName,
    slug: record.slug,
    runId: record.runId ?? '',
    status: record.status,
    statusText: statusLabel(record, sources.runs.connectionOf(record.localId)),
    progress: record.progress,
    progressText: vscode.l10n.t({ message: '{0}%', args: [record.progress], comment: 'progress in percent' }),
    cost:
      cost === undefined
        ? ''
        : record.chargedCost !== undefined
          ? vscode.l10n.t('{0} credits charged', cost)
          : vscode.l10n.t('{0} credits', cost),
    startedAt: new Date(record.createdAt ?? record.startedLocallyAt).toLocaleString(),
    completedAt: record.completedAt ? new Date(record.completedAt).toLocaleString() : '',
    inputs: record.inputs.map((input, index) => ({
      index,
      id: input.id,
      label: knownName(sources.details?.inputs, input.id) ?? input.id,
      type: input.type,
      // A local file shows where it came from; the URL it was uploaded to is what FLORA read.
      value: input.localPath ? vscode.l10n.t('{0} (uploaded from this machine)', input.localPath) : input.value,
      image: isImageInput(input),
    })),
    outputs: (record.outputs ?? []).map((output, index) => {
      const saved = savedOutputOf(record, index);
      const savedPath = saved ? savedPathText(saved) : '';
      const title = knownName(sources.details?.outputs, output.outputId) || output.outputId || vscode.l10n.t('Output {0}', index + 1);
      return {
        index,
        title,
        outputId: output.outputId ?? '',
        type: output.type,
        kind: outputKind(output.type),
        url: output.url,
        // The page loads exactly what the CSP allows.
        loadable: isLoadableUrl(output.url, extra),
        savedPath,
        savedText: saved ? vscode.l10n.t('Saved as {0}', savedPath) : '',
        zoom: {
          toActual: vscode.l10n.t('Show {0} at actual size', title),
          zoomIn: vscode.l10n.t('Zoom in on {0}', title),
          toFit: vscode.l10n.t('Fit {0} to the panel', title),
        },
      };
    }),
    errorText: runErrorText(record),
    offerSave:
      record.status === 'completed' &&
      sources.saveOutputs !== 'never' &&
      (record.outputs ?? []).some((_output, index) => savedOutputOf(record, index) === undefined),
    labels: previewLabels(),
  };
}

/** The name the technique's details give an input or output, when they give one that is not blank. */
function knownName(entries: ReadonlyArray<{ id: string; name?: string }> | undefined, id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const name = entries?.find((entry) => entry.id === id)?.name?.trim();
  return name ? name : undefined;
}

/** Made once: the display language cannot change without restarting the extension host. */
let labels: PreviewLabels | undefined;

function previewLabels(): PreviewLabels {
  return (labels ??= {
    technique: vscode.l10n.t('Technique'),
    runId: vscode.l10n.t('Run ID'),
    started: vscode.l10n.t('Started'),
    finished: vscode.l10n.t('Finished'),
    inputs: vscode.l10n.t('Inputs'),
    noOutputs: vscode.l10n.t('This run produced no outputs.'),
    outputsPending: vscode.l10n.t('Outputs appear here when the run completes.'),
    notLoadable: vscode.l10n.t('This output URL is not shown because it is not an https:// link.'),
    imageAlt: vscode.l10n.t('FLORA output image'),
    copyUrl: vscode.l10n.t('Copy URL'),
    insert: vscode.l10n.t('Insert into Editor'),
    download: vscode.l10n.t('Download'),
    openExternal: vscode.l10n.t('Open in Browser'),
    openSaved: vscode.l10n.t('Open File'),
    save: vscode.l10n.t('Save to Workspace'),
    shownFitted: vscode.l10n.t('Fitted to the panel'),
    shownActual: vscode.l10n.t('Actual size'),
    shownZoomed: vscode.l10n.t('Zoomed in (200%)'),
    hintToActual: vscode.l10n.t('Click to show at actual size'),
    hintZoomIn: vscode.l10n.t('Click to zoom in'),
    hintToFit: vscode.l10n.t('Click to fit to the panel'),
  });
}
