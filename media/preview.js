// @ts-check
// The preview page. Everything from the run is set with textContent or as an element property, never as
// HTML. URLs are loaded only when the extension marked them loadable (https, or the local sandbox).
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  const localId = decodeURIComponent(document.body.dataset.localId || '');
  vscode.setState({ localId });

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

  /** @param {any} output @param {any} labels */
  function renderOutput(output, labels) {
    const card = element('section', 'output');
    card.dataset.kind = output.kind;
    card.appendChild(element('h2', 'output-title', output.title));
    if (!output.loadable) {
      card.appendChild(element('p', 'warning', labels.notLoadable));
      card.appendChild(element('code', 'url', output.url));
      if (output.savedPath) card.appendChild(savedLine(output, labels));
      return card;
    }
    if (output.kind === 'image') {
      const image = /** @type {HTMLImageElement} */ (element('img', 'media'));
      image.src = output.url;
      image.alt = output.outputId || labels.imageAlt;
      card.appendChild(image);
    } else if (output.kind === 'video') {
      const video = /** @type {HTMLVideoElement} */ (element('video', 'media'));
      video.src = output.url;
      video.controls = true;
      video.loop = true;
      video.muted = true;
      card.appendChild(video);
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

  /** @param {any} run */
  function render(run) {
    const labels = run.labels;
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
    for (const input of run.inputs) fact(input.label, input.value);
    header.appendChild(facts);
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

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (!message || typeof message !== 'object') return;
    if (message.type === 'run' && message.run) render(message.run);
    if (message.type === 'gone') {
      app.replaceChildren(element('p', 'muted', message.text));
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
