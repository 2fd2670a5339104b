/** How an output URL is written into documents of each language. */
import * as assert from 'node:assert/strict';

import { formatOutputForLanguage } from '../../../src/core/insertFormat';

const IMAGE = { url: 'https://ik.imagekit.io/flora/shot.png', type: 'imageUrl', alt: 'Studio Shot' };
const VIDEO = { url: 'https://ik.imagekit.io/flora/clip.mp4', type: 'videoUrl' };
const TEXT = { url: 'https://ik.imagekit.io/flora/palette.txt', type: 'text' };

describe('core/insertFormat formatOutputForLanguage', () => {
  it('markdown: image syntax for images, a video element for videos, a link otherwise', () => {
    assert.equal(formatOutputForLanguage('markdown', IMAGE), '![Studio Shot](https://ik.imagekit.io/flora/shot.png)');
    assert.equal(formatOutputForLanguage('mdx', IMAGE), '![Studio Shot](https://ik.imagekit.io/flora/shot.png)');
    assert.equal(formatOutputForLanguage('markdown', VIDEO), '<video src="https://ik.imagekit.io/flora/clip.mp4" controls></video>');
    assert.equal(formatOutputForLanguage('markdown', TEXT), '[FLORA output](https://ik.imagekit.io/flora/palette.txt)');
  });

  it('markdown: escapes brackets in the alt text and spaces/parentheses in the URL', () => {
    const tricky = { url: 'https://media.flora.ai/a (1) b.png', type: 'imageUrl', alt: 'Wonder[fy] \\ x' };
    assert.equal(formatOutputForLanguage('markdown', tricky), '![Wonder\\[fy\\] \\\\ x](https://media.flora.ai/a%20%281%29%20b.png)');
  });

  it('html and vue: img and video elements with escaped attributes', () => {
    assert.equal(formatOutputForLanguage('html', IMAGE), '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot">');
    assert.equal(formatOutputForLanguage('vue', IMAGE), '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot">');
    assert.equal(formatOutputForLanguage('html', VIDEO), '<video src="https://ik.imagekit.io/flora/clip.mp4" controls></video>');
    assert.equal(formatOutputForLanguage('html', TEXT), TEXT.url);
    const quoted = { url: 'https://media.flora.ai/a.png?x="1"&y=<2>', type: 'imageUrl', alt: 'say "hi" & <bye>' };
    assert.equal(
      formatOutputForLanguage('html', quoted),
      '<img src="https://media.flora.ai/a.png?x=&quot;1&quot;&amp;y=&lt;2&gt;" alt="say &quot;hi&quot; &amp; &lt;bye&gt;">',
    );
  });

  it('typescriptreact and javascriptreact: self-closing elements', () => {
    assert.equal(
      formatOutputForLanguage('typescriptreact', IMAGE),
      '<img src="https://ik.imagekit.io/flora/shot.png" alt="Studio Shot" />',
    );
    assert.equal(formatOutputForLanguage('javascriptreact', VIDEO), '<video src="https://ik.imagekit.io/flora/clip.mp4" controls />');
  });

  it('css, scss and less: url("…") with quotes and backslashes escaped', () => {
    for (const language of ['css', 'scss', 'less']) {
      assert.equal(formatOutputForLanguage(language, IMAGE), 'url("https://ik.imagekit.io/flora/shot.png")', language);
    }
    assert.equal(formatOutputForLanguage('css', VIDEO), 'url("https://ik.imagekit.io/flora/clip.mp4")');
    assert.equal(
      formatOutputForLanguage('css', { url: 'https://media.flora.ai/a"b\\c.png', type: 'imageUrl' }),
      'url("https://media.flora.ai/a\\"b\\\\c.png")',
    );
    assert.equal(formatOutputForLanguage('css', TEXT), TEXT.url, 'a text output is not a CSS image');
  });

  it('plaintext and unknown languages get the bare URL, as does the plain format everywhere', () => {
    assert.equal(formatOutputForLanguage('plaintext', IMAGE), IMAGE.url);
    assert.equal(formatOutputForLanguage('python', IMAGE), IMAGE.url);
    for (const language of ['markdown', 'html', 'typescriptreact', 'css']) {
      assert.equal(formatOutputForLanguage(language, IMAGE, 'plain'), IMAGE.url, language);
    }
  });
});
