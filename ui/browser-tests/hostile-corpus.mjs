// Hostile content (issue #19): strings a participant could put wherever the app shows
// what people typed — chat, display names, room titles, questions, polls, file names, the
// whiteboard's text. hostile.test.mjs sends every one through every such place and checks
// that none of them runs, injects an element, or breaks the layout.
//
// A payload that would run if the app ever put user text into HTML (or a URL, a style, a
// template) calls the sentinel `window.__pwned('<its id>')`, which the test defines to
// record the call; a recorded call fails the test. The others are there for the layout:
// bidi overrides, invisible characters, floods of marks and newlines, very long words.
//
// Each entry: { id, kind, text }. Ids are unique, lowercase, and safe in a quoted string.
// Test-only.

/** What a payload calls when it runs. */
const pwn = (id) => `window.__pwned('${id}')`;

const RLO = '\u202E'; // right-to-left override
const LRO = '\u202D'; // left-to-right override
const PDF = '\u202C'; // pop directional formatting
const RLE = '\u202B'; // right-to-left embedding
const RLI = '\u2067'; // right-to-left isolate
const ZWSP = '\u200B';
const ZWNJ = '\u200C';
const ZWJ = '\u200D';
const WJ = '\u2060'; // word joiner: invisible, and no break opportunity
const BOM = '\uFEFF';

/** @type {{id: string, kind: string, text: string}[]} */
export const PAYLOADS = [
  // Script tags, however spelled.
  { id: 'script-tag', kind: 'script', text: `<script>${pwn('script-tag')}</script>` },
  { id: 'script-upper', kind: 'script', text: `<SCRIPT>${pwn('script-upper')}</SCRIPT>` },
  { id: 'script-src-data', kind: 'script', text: `<script src="data:text/javascript,${pwn('script-src-data')}"></script>` },
  { id: 'script-attr-break', kind: 'script', text: `"><script>${pwn('script-attr-break')}</script>` },
  { id: 'script-textarea-break', kind: 'script', text: `</textarea><script>${pwn('script-textarea-break')}</script>` },
  { id: 'script-title-break', kind: 'script', text: `</title></h1><script>${pwn('script-title-break')}</script>` },
  { id: 'script-nested', kind: 'script', text: `<scr<script>ipt>${pwn('script-nested')}</scr</script>ipt>` },
  { id: 'script-fullwidth', kind: 'script', text: `＜script＞${pwn('script-fullwidth')}＜/script＞` },
  { id: 'script-url-encoded', kind: 'script', text: `%3Cscript%3E${pwn('script-url-encoded')}%3C%2Fscript%3E` },

  // Event handlers.
  { id: 'img-onerror', kind: 'handler', text: `<img src=x onerror="${pwn('img-onerror')}">` },
  { id: 'img-onerror-bare', kind: 'handler', text: `<img src=x onerror=${pwn('img-onerror-bare')}>` },
  { id: 'svg-onload', kind: 'handler', text: `<svg onload="${pwn('svg-onload')}"></svg>` },
  { id: 'svg-slash-onload', kind: 'handler', text: `<svg/onload=${pwn('svg-slash-onload')}>` },
  { id: 'body-onload', kind: 'handler', text: `<body onload=${pwn('body-onload')}>` },
  { id: 'iframe-srcdoc', kind: 'handler', text: `<iframe srcdoc="<script>parent.__pwned('iframe-srcdoc')</script>"></iframe>` },
  { id: 'details-ontoggle', kind: 'handler', text: `<details open ontoggle=${pwn('details-ontoggle')}><summary>x</summary></details>` },
  { id: 'input-autofocus', kind: 'handler', text: `<input autofocus onfocus=${pwn('input-autofocus')}>` },
  { id: 'video-source-onerror', kind: 'handler', text: `<video><source onerror="${pwn('video-source-onerror')}"></video>` },
  { id: 'marquee-onstart', kind: 'handler', text: `<marquee onstart=${pwn('marquee-onstart')}>hi</marquee>` },
  {
    id: 'div-onmouseover',
    kind: 'handler',
    text: `<div onmouseover="${pwn('div-onmouseover')}" style="position:fixed;inset:0;z-index:9999">move the mouse</div>`,
  },
  { id: 'a-onclick', kind: 'handler', text: `<a href="#" onclick="${pwn('a-onclick')};return false">click me</a>` },
  { id: 'attr-break-double', kind: 'handler', text: `" onmouseover="${pwn('attr-break-double')}" x="` },
  { id: 'attr-break-single', kind: 'handler', text: `' autofocus onfocus='window.__pwned(\`attr-break-single\`)' x='` },
  { id: 'attr-break-unquoted', kind: 'handler', text: `x onmouseenter=${pwn('attr-break-unquoted')} ` },
  { id: 'mxss-noscript', kind: 'handler', text: `<noscript><p title="</noscript><img src=x onerror=${pwn('mxss-noscript')}>">` },
  { id: 'mxss-math', kind: 'handler', text: `<math><mtext><table><mglyph><style><img src=x onerror=${pwn('mxss-math')}>` },
  { id: 'object-data', kind: 'handler', text: `<object data="javascript:${pwn('object-data')}"></object>` },
  { id: 'embed-src', kind: 'handler', text: `<embed src="javascript:${pwn('embed-src')}">` },
  { id: 'form-action', kind: 'handler', text: `<form action="javascript:${pwn('form-action')}"><button>Go</button></form>` },
  { id: 'meta-refresh', kind: 'handler', text: `<meta http-equiv="refresh" content="0;url=javascript:${pwn('meta-refresh')}">` },
  { id: 'base-href', kind: 'handler', text: `<base href="javascript:${pwn('base-href')}//">` },

  // javascript: and other URLs.
  { id: 'js-url', kind: 'url', text: `javascript:${pwn('js-url')}` },
  { id: 'js-url-case', kind: 'url', text: `JaVaScRiPt:${pwn('js-url-case')}` },
  { id: 'js-url-tab', kind: 'url', text: `java\tscript:${pwn('js-url-tab')}` },
  { id: 'js-url-entity', kind: 'url', text: `&#106;avascript&#58;${pwn('js-url-entity')}` },
  { id: 'a-href-js', kind: 'url', text: `<a href="javascript:${pwn('a-href-js')}">open the notes</a>` },
  { id: 'data-url-html', kind: 'url', text: `data:text/html,<script>${pwn('data-url-html')}</script>` },
  { id: 'remote-img', kind: 'url', text: '<img src="https://evil.example/track.png?who=me">' },
  { id: 'remote-iframe', kind: 'url', text: '<iframe src="https://evil.example/"></iframe>' },
  { id: 'a-target-blank', kind: 'url', text: '<a href="https://evil.example/login" target="_blank">Sign in again</a>' },

  // SVG.
  { id: 'svg-script', kind: 'svg', text: `<svg><script>${pwn('svg-script')}</script></svg>` },
  { id: 'svg-animate', kind: 'svg', text: `<svg><animate onbegin=${pwn('svg-animate')} attributeName=x dur=1s></svg>` },
  {
    id: 'svg-xlink',
    kind: 'svg',
    text: `<svg><a xlink:href="javascript:${pwn('svg-xlink')}"><text x="20" y="20">tap</text></a></svg>`,
  },
  { id: 'svg-foreign', kind: 'svg', text: `<svg><foreignObject><img src=x onerror=${pwn('svg-foreign')}></foreignObject></svg>` },
  { id: 'svg-set', kind: 'svg', text: `<svg><set attributeName=onmouseover to=${pwn('svg-set')}></svg>` },

  // CSS injection.
  { id: 'css-style-break', kind: 'css', text: '</style><style>*{display:none!important}</style>' },
  { id: 'css-url-js', kind: 'css', text: `<style>body{background:url("javascript:${pwn('css-url-js')}")}</style>` },
  {
    id: 'css-overlay-div',
    kind: 'css',
    text: '<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;background:red;z-index:99999">covered</div>',
  },
  { id: 'css-remote-link', kind: 'css', text: '<link rel="stylesheet" href="https://evil.example/steal.css">' },
  { id: 'css-style-attr', kind: 'css', text: '" style="display:none;position:fixed" x="' },
  { id: 'css-import', kind: 'css', text: '@import url(https://evil.example/x.css); *{display:none}' },
  { id: 'css-expression', kind: 'css', text: `width: expression(${pwn('css-expression')});` },

  // Right-to-left overrides and strong right-to-left text.
  { id: 'rtl-file-ext', kind: 'bidi', text: `invoice${RLO}fdp.exe` },
  { id: 'rtl-unterminated', kind: 'bidi', text: `${RLO}Host (you)` },
  { id: 'rtl-nested', kind: 'bidi', text: `Bob${RLI}${RLE}${RLO} says hi` },
  { id: 'rtl-ltr-mix', kind: 'bidi', text: `${LRO}abc${PDF}${RLO}def` },
  { id: 'rtl-hebrew-arabic', kind: 'bidi', text: 'שלום مرحبا (host) 123' },
  { id: 'rtl-marks', kind: 'bidi', text: '\u200F\u200F\u061C!?\u200E' },

  // Zero-width and invisible characters.
  { id: 'zw-lookalike', kind: 'invisible', text: `A${ZWSP}d${ZWNJ}a${ZWJ}` },
  { id: 'zw-only', kind: 'invisible', text: `${WJ}${BOM}${ZWSP}${ZWNJ}` },
  { id: 'zw-flood', kind: 'invisible', text: `${WJ.repeat(2000)}end` },
  { id: 'zw-joined-long', kind: 'invisible', text: `x${WJ}`.repeat(1500) },

  // Very long strings with no spaces.
  { id: 'long-a', kind: 'long', text: 'A'.repeat(5000) },
  { id: 'long-w', kind: 'long', text: 'W'.repeat(600) },
  { id: 'long-url', kind: 'long', text: `https://example.com/${'segment/'.repeat(400)}` },
  { id: 'long-cjk', kind: 'long', text: '漢'.repeat(2000) },
  { id: 'long-emoji', kind: 'long', text: '😀'.repeat(600) },
  { id: 'long-nbsp', kind: 'long', text: 'word\u00A0'.repeat(600) },
  { id: 'long-dashes', kind: 'long', text: '-'.repeat(3000) },

  // Markdown tricks (nothing renders Markdown: they must show as typed).
  { id: 'md-link-js', kind: 'markdown', text: `[the notes](javascript:${pwn('md-link-js')})` },
  { id: 'md-img', kind: 'markdown', text: `![x](x" onerror="${pwn('md-img')})` },
  { id: 'md-ref-link', kind: 'markdown', text: `[notes][1]\n\n[1]: javascript:${pwn('md-ref-link')}` },
  { id: 'md-autolink', kind: 'markdown', text: '<https://evil.example/> and <javascript:alert(1)>' },
  { id: 'md-html-block', kind: 'markdown', text: `# Heading\n\n<img src=x onerror=${pwn('md-html-block')}>\n\n**bold** _it_ \`code\`` },

  // HTML entities (shown as typed, never decoded into markup).
  { id: 'entity-lt', kind: 'entity', text: `&lt;script&gt;${pwn('entity-lt')}&lt;/script&gt;` },
  { id: 'entity-numeric', kind: 'entity', text: `&#60;img src=x onerror=${pwn('entity-numeric')}&#62;` },
  { id: 'entity-double', kind: 'entity', text: '&amp;lt;b&amp;gt;double&amp;lt;/b&amp;gt; &nbsp;&#x202E;&zwnj;' },

  // Template syntax.
  { id: 'tpl-angular', kind: 'template', text: `{{constructor.constructor('${pwn('tpl-angular').replaceAll("'", '"')}')()}}` },
  { id: 'tpl-literal', kind: 'template', text: `\${${pwn('tpl-literal')}}` },
  { id: 'tpl-erb', kind: 'template', text: `<%= ${pwn('tpl-erb')} %> #{${pwn('tpl-ruby')}}` },
  { id: 'tpl-react-html', kind: 'template', text: `{"__html":"<img src=x onerror=${pwn('tpl-react-html')}>"}` },
  { id: 'tpl-math', kind: 'template', text: '{{7*7}} ${7*7} <%= 7*7 %>' },

  // Null-ish and key-ish strings (a name is never a lookup key, nor a missing value).
  { id: 'nullish-null', kind: 'nullish', text: 'null' },
  { id: 'nullish-undefined', kind: 'nullish', text: 'undefined' },
  { id: 'nullish-nan', kind: 'nullish', text: 'NaN' },
  { id: 'nullish-object', kind: 'nullish', text: '[object Object]' },
  { id: 'nullish-proto', kind: 'nullish', text: '__proto__' },
  { id: 'nullish-constructor', kind: 'nullish', text: 'constructor' },
  { id: 'nullish-space', kind: 'nullish', text: ' ' },

  // Emoji: ZWJ sequences, skin tones, flags, and a long ZWJ chain.
  { id: 'emoji-zwj', kind: 'emoji', text: '👩‍👩‍👧‍👦👨🏿‍🚀🏳️‍🌈🧑🏽‍🤝‍🧑🏻🇺🇦' },
  { id: 'emoji-zwj-chain', kind: 'emoji', text: `${'👨‍'.repeat(300)}👨` },

  // Combining marks (Zalgo).
  { id: 'zalgo-word', kind: 'zalgo', text: 'Z̸̢̧̛̖͉̗͎̫̯̭̈́̈́̾͌̃a̷̡̛̝̱̱͚͖̓̄̅̏͝l̴̢̛̟̖̜̓̈́̑̂g̵̨̛̜̺̳͖̀̅̎̍o̵̧̙̯͎̒͋͘' },
  { id: 'zalgo-flood', kind: 'zalgo', text: `H${'\u0336\u0301\u0316\u0353'.repeat(250)}i` },

  // Newline and whitespace floods.
  { id: 'newline-flood', kind: 'newline', text: `top${'\n'.repeat(400)}bottom` },
  { id: 'crlf-flood', kind: 'newline', text: `${'line\r\n'.repeat(200)}end` },
  { id: 'tab-flood', kind: 'newline', text: `${'\t'.repeat(300)}tabs` },
  { id: 'line-separators', kind: 'newline', text: `a\u2028b\u2029c${'\u2028'.repeat(200)}d` },

  // Markup that changes how the rest of a page parses.
  { id: 'html-comment', kind: 'parser', text: `<!-- <img src=x onerror=${pwn('html-comment')}> -->` },
  { id: 'html-plaintext', kind: 'parser', text: '<plaintext><xmp></xmp></plaintext>' },
  { id: 'html-cdata', kind: 'parser', text: `<![CDATA[<script>${pwn('html-cdata')}</script>]]>` },
];

/** The payloads' texts, in order. */
export const TEXTS = PAYLOADS.map((p) => p.text);

/** The payload with the id `id`. */
export function payload(id) {
  const found = PAYLOADS.find((p) => p.id === id);
  if (!found) throw new Error(`no payload ${id}`);
  return found;
}
