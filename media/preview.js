// @ts-check
// The preview page. Everything from the run is set with textContent or as an element property, never as
// HTML. URLs are loaded only when the extension marked them loadable (https, or the local sandbox); input
// thumbnails are bytes the extension checked, sent in a message and drawn onto a canvas, so no URL is loaded
// for them and the CSP needs no source for them. An output image fits the panel, never drawn larger than it
// is; clicking it (or Enter or Space on it) shows it at its actual size, or zoomed in when it already fits.
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const localId = decodeURIComponent(document.body.dataset.localId || '');
  /** The state a reload of this panel kept, when it was of the same run. */
  const kept = vscode.getState();
  const state = kept && kept.localId === localId ? kept : {};

  /** @param {string} tag @param {string} [className] @param {string} [text] */
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** @param {string} label @param {string} action @param {number} [index] absent for actions on the whole run */
  function button(label, action, index) {
    const node = /** @type {HTMLButtonElement} */ (element('button', 'action', label));
    node.type = 'button';
    node.dataset.action = action;
    node.addEventListener('click', () => vscode.postMessage(index === undefined ? { type: action } : { type: action, index }));
    return node;
  }

  /** "Saved as flora-outputs/…" and Open File, under an output the extension says was saved. @param {any} output @param {any} labels */
  function savedLine(output, labels) {
    const line = element('p', 'saved');
    line.appendChild(element('span', 'saved-path', output.savedText));
    line.appendChild(button(labels.openSaved, 'openSaved', output.index));
    return line;
  }

  /**
   * How each output image is zoomed, by output index: absent when it fits the panel (never past its own
   * size), else the factor of its natural size (1: actual size; 2: an image that already fits, zoomed in).
   * Kept in the webview's state, so a re-render or a reload keeps it.
   * @type {Map<number, number>}
   */
  const zoom = new Map(
    (Array.isArray(state.zoom) ? state.zoom : []).filter(
      (/** @type {unknown} */ entry) => Array.isArray(entry) && Number.isInteger(entry[0]) && (entry[1] === 1 || entry[1] === 2),
    ),
  );
  /** The image types the extension sends thumbnails as (it checked the bytes' signature). */
  const THUMBNAIL_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
  /** A thumbnail fits a square of this many CSS pixels, keeping its aspect ratio. */
  const THUMBNAIL_BOX = 64;
  /**
   * The image inputs' thumbnails, decoded and scaled to the box once, by input index: a re-render draws them
   * again without decoding.
   * @type {Map<number, { bitmap: ImageBitmap, width: number, height: number }>}
   */
  const thumbnails = new Map();
  /** The newest thumbnail message per input index: a slower decode of an older one does not replace it. @type {Map<number, number>} */
  const thumbnailTurns = new Map();
  let thumbnailTurn = 0;

  function saveState() {
    vscode.setState({ localId, zoom: [...zoom] });
  }

  /**
   * Sizes a zoomable image as its zoom says and writes its state under it and into its button's names.
   * @param {HTMLButtonElement} button @param {HTMLImageElement} image @param {HTMLElement} caption @param {any} output @param {any} labels
   */
  function applyZoom(button, image, caption, output, labels) {
    const factor = zoom.get(output.index);
    const natural = image.naturalWidth;
    image.classList.toggle('zoomed', factor !== undefined);
    image.style.width = factor !== undefined && natural > 0 ? `${natural * factor}px` : '';
    button.setAttribute('aria-pressed', String(factor !== undefined));
    button.classList.toggle('is-zoomed', factor !== undefined);
    if (natural === 0) {
      caption.textContent = '';
      return;
    }
    // Fitted: drawn smaller than it is (the panel is narrower), or at its own size.
    const scaledDown = factor === undefined && image.getBoundingClientRect().width < natural - 0.5;
    const shown =
      factor === undefined
        ? scaledDown
          ? labels.shownFitted
          : labels.shownActual
        : factor === 1
          ? labels.shownActual
          : labels.shownZoomed;
    const hint = factor !== undefined ? labels.hintToFit : scaledDown ? labels.hintToActual : labels.hintZoomIn;
    const name = factor !== undefined ? output.zoom.toFit : scaledDown ? output.zoom.toActual : output.zoom.zoomIn;
    button.setAttribute('aria-label', name);
    button.title = hint;
    button.dataset.zoom = factor === undefined ? (scaledDown ? 'fitted' : 'actual') : factor === 1 ? 'actual' : 'double';
    caption.textContent = `${natural} × ${image.naturalHeight} · ${shown} · ${hint}`;
  }

  /** The zoomable images on the page, re-sized when the panel is. @type {Array<() => void>} */
  let zoomables = [];
  new ResizeObserver(() => {
    for (const update of zoomables) update();
  }).observe(document.body);

  /** @param {any} output @param {any} labels */
  function renderImage(output, labels) {
    const frame = element('div', 'frame');
    const button = /** @type {HTMLButtonElement} */ (element('button', 'zoom'));
    button.type = 'button';
    const image = /** @type {HTMLImageElement} */ (element('img', 'media'));
    image.alt = output.title || labels.imageAlt;
    button.appendChild(image);
    frame.appendChild(button);
    const caption = element('p', 'zoom-state');
    const update = () => applyZoom(button, image, caption, output, labels);
    image.addEventListener('load', update);
    button.addEventListener('click', () => {
      if (zoom.has(output.index)) zoom.delete(output.index);
      else zoom.set(output.index, image.getBoundingClientRect().width < image.naturalWidth - 0.5 ? 1 : 2);
      saveState();
      update();
    });
    button.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && zoom.has(output.index)) {
        zoom.delete(output.index);
        saveState();
        update();
      }
    });
    zoomables.push(update);
    image.src = output.url;
    return [frame, caption];
  }

  /** @param {any} output @param {any} labels */
  function renderOutput(output, labels) {
    const card = element('section', 'output');
    card.dataset.kind = output.kind;
    card.dataset.index = String(output.index);
    card.appendChild(element('h2', 'output-title', output.title));
    if (!output.loadable) {
      card.appendChild(element('p', 'warning', labels.notLoadable));
      card.appendChild(element('code', 'url', output.url));
      if (output.savedPath) card.appendChild(savedLine(output, labels));
      return card;
    }
    if (output.kind === 'image') {
      for (const part of renderImage(output, labels)) card.appendChild(part);
    } else if (output.kind === 'video') {
      const frame = element('div', 'frame');
      const video = /** @type {HTMLVideoElement} */ (element('video', 'media'));
      video.src = output.url;
      video.controls = true;
      video.loop = true;
      video.muted = true;
      video.setAttribute('aria-label', output.title);
      frame.appendChild(video);
      card.appendChild(frame);
    } else {
      const link = /** @type {HTMLAnchorElement} */ (element('a', 'link', output.url));
      link.href = output.url;
      card.appendChild(link);
    }
    card.appendChild(element('code', 'url', output.url));
    if (output.savedPath) card.appendChild(savedLine(output, labels));
    const actions = element('div', 'actions');
    actions.appendChild(button(labels.copyUrl, 'copyUrl', output.index));
    actions.appendChild(button(labels.insert, 'insert', output.index));
    actions.appendChild(button(labels.download, 'download', output.index));
    actions.appendChild(button(labels.openExternal, 'openExternal', output.index));
    card.appendChild(actions);
    return card;
  }

  /**
   * Decodes a thumbnail's bytes (no URL is loaded) and scales it to fit the box, in device pixels so it is
   * sharp; never larger than the image itself.
   * @param {string} mediaType @param {string} base64
   */
  async function decodeThumbnail(mediaType, base64) {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let offset = 0; offset < binary.length; offset++) bytes[offset] = binary.charCodeAt(offset);
    const full = await createImageBitmap(new Blob([bytes], { type: mediaType }));
    try {
      if (full.width === 0 || full.height === 0) return undefined;
      const scale = Math.min(1, THUMBNAIL_BOX / full.width, THUMBNAIL_BOX / full.height);
      const width = Math.max(1, Math.round(full.width * scale));
      const height = Math.max(1, Math.round(full.height * scale));
      const ratio = Math.max(1, window.devicePixelRatio || 1);
      const bitmap = await createImageBitmap(full, {
        resizeWidth: Math.round(width * ratio),
        resizeHeight: Math.round(height * ratio),
        resizeQuality: 'high',
      });
      return { bitmap, width, height };
    } finally {
      full.close();
    }
  }

  /**
   * An input's thumbnail: a canvas in the 64 px box, named for assistive technology by the input's name
   * (set as an attribute's text, never as markup).
   * @param {{ bitmap: ImageBitmap, width: number, height: number }} decoded @param {string} name
   */
  function thumbnail(decoded, name) {
    const box = element('span', 'input-thumbnail');
    const canvas = /** @type {HTMLCanvasElement} */ (element('canvas', 'input-thumbnail-image'));
    canvas.width = decoded.bitmap.width;
    canvas.height = decoded.bitmap.height;
    canvas.style.width = `${decoded.width}px`;
    canvas.style.height = `${decoded.height}px`;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', name);
    canvas.getContext('2d')?.drawImage(decoded.bitmap, 0, 0);
    box.appendChild(canvas);
    return box;
  }

  /** @param {any} input */
  function renderInput(input) {
    const item = element('li', 'input');
    item.dataset.inputIndex = String(input.index);
    const known = thumbnails.get(input.index);
    if (known) item.appendChild(thumbnail(known, input.label));
    const text = element('div', 'input-text');
    text.appendChild(element('span', 'input-name', input.label));
    text.appendChild(element('span', input.type === 'text' ? 'input-value' : 'input-value url-value', input.value));
    item.appendChild(text);
    return item;
  }

  /** @param {any} run */
  function render(run) {
    const labels = run.labels;
    zoomables = [];
    app.replaceChildren();
    const header = element('header');
    header.appendChild(element('h1', 'title', run.techniqueName));
    const meta = element('p', 'meta');
    meta.appendChild(element('span', `status status-${run.status}`, run.statusText));
    if (run.status === 'running' || run.status === 'pending' || run.status === 'creating') {
      meta.appendChild(element('span', 'progress', ` · ${run.progressText}`));
    }
    if (run.cost) meta.appendChild(element('span', 'cost', ` · ${run.cost}`));
    header.appendChild(meta);
    const facts = element('dl', 'facts');
    /** @param {string} term @param {string} value */
    const fact = (term, value) => {
      if (!value) return;
      facts.appendChild(element('dt', undefined, term));
      facts.appendChild(element('dd', undefined, value));
    };
    fact(labels.technique, run.slug);
    fact(labels.runId, run.runId);
    fact(labels.started, run.startedAt);
    fact(labels.finished, run.completedAt);
    header.appendChild(facts);
    if (run.inputs.length > 0) {
      const inputs = element('section', 'inputs');
      inputs.setAttribute('aria-label', labels.inputs);
      inputs.appendChild(element('h2', 'section-title', labels.inputs));
      const list = element('ul', 'input-list');
      for (const input of run.inputs) list.appendChild(renderInput(input));
      inputs.appendChild(list);
      header.appendChild(inputs);
    }
    if (run.offerSave) {
      // One button for the run: Save to Workspace saves every output not saved yet.
      const runActions = element('div', 'actions run-actions');
      const save = button(labels.save, 'save');
      save.classList.add('primary');
      runActions.appendChild(save);
      header.appendChild(runActions);
    }
    app.appendChild(header);
    if (run.errorText) app.appendChild(element('p', 'error', run.errorText));
    if (run.outputs.length === 0) {
      app.appendChild(element('p', 'muted', run.status === 'completed' ? labels.noOutputs : labels.outputsPending));
    }
    const outputs = element('div', 'outputs');
    for (const output of run.outputs) outputs.appendChild(renderOutput(output, labels));
    app.appendChild(outputs);
  }

  /** @param {number} index @param {string} mediaType @param {string} base64 */
  async function showThumbnail(index, mediaType, base64) {
    // Only the four image types the extension checked the bytes of, as base64.
    if (!THUMBNAIL_TYPES.has(mediaType) || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return;
    const turn = ++thumbnailTurn;
    thumbnailTurns.set(index, turn);
    const decoded = await decodeThumbnail(mediaType, base64).catch(() => undefined);
    if (!decoded) return;
    if (thumbnailTurns.get(index) !== turn) {
      decoded.bitmap.close();
      return;
    }
    thumbnails.get(index)?.bitmap.close();
    thumbnails.set(index, decoded);
    const item = app.querySelector(`li.input[data-input-index="${index}"]`);
    if (!item) return;
    item.querySelector('.input-thumbnail')?.remove();
    const name = item.querySelector('.input-name')?.textContent ?? '';
    item.insertBefore(thumbnail(decoded, name), item.firstChild);
  }

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || typeof message !== 'object') return;
    if (message.type === 'run' && message.run) render(message.run);
    if (
      message.type === 'inputThumbnail' &&
      Number.isInteger(message.index) &&
      typeof message.mediaType === 'string' &&
      typeof message.base64 === 'string'
    ) {
      void showThumbnail(message.index, message.mediaType, message.base64);
    }
    if (message.type === 'gone') {
      app.replaceChildren(element('p', 'muted', message.text));
    }
  });
  saveState();
  vscode.postMessage({ type: 'ready' });
})();
