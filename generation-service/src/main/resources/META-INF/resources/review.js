// The review page: asks /v1/answer:stream, shows the evidence and the answer as they arrive, sends
// feedback to /v1/feedback and lists /v1/traces. Everything stays in this page's memory: no web
// storage and no cookies. All text is inserted as text (never as HTML).
'use strict';

const $ = (id) => document.getElementById(id);
const CORPUS_NAMES = { RESEARCH: 'Research (PubMed)', WIKI: 'Wikipedia', BOOK: 'Books and topics', GUIDELINE: 'Guidelines', GRAPH: 'Knowledge graph' };
let evidenceLabels = new Map(); // evidence id -> short label (R1, K2) for citations
let previewUrl = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/** A stable element id for an evidence id ("medpix:MPX1_synpic2" -> "ev-medpix-MPX1_synpic2"). */
function cardId(evidenceId) {
  return 'ev-' + evidenceId.replace(/[^A-Za-z0-9_-]/g, '-');
}

function status(text, isError) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

async function loadDemoImages() {
  try {
    const res = await fetch('v1/demo-images');
    const images = await res.json();
    for (const i of images) {
      $('demo-image').append(el('option', { value: i.image }, `${i.image} (${i.type}, ${i.plane}, ${i.location})`));
    }
  } catch (e) {
    $('demo-image').append(el('option', { value: '', disabled: 'disabled' }, 'demo images unavailable'));
  }
}

function showChoice() {
  const file = $('image-file').files[0];
  const demo = $('demo-image').value;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  const img = $('preview');
  if (file) {
    $('image-choice').textContent = `Uploading ${file.name} (${file.size} bytes).`;
    if (/^image\/(png|jpeg)$/.test(file.type)) { previewUrl = URL.createObjectURL(file); img.src = previewUrl; img.alt = 'the uploaded image'; img.hidden = false; } else { img.hidden = true; }
  } else if (demo) {
    $('image-choice').textContent = `Using MedPix dev image ${demo}.`;
    img.src = 'v1/demo-images/' + encodeURIComponent(demo); img.alt = 'MedPix image ' + demo; img.hidden = false;
  } else {
    $('image-choice').textContent = 'No image chosen.';
    img.hidden = true;
  }
}

async function requestForm() {
  const form = new FormData();
  const file = $('image-file').files[0];
  const demo = $('demo-image').value;
  if (file) {
    form.append('image', file, file.name);
  } else if (demo) {
    const res = await fetch('v1/demo-images/' + encodeURIComponent(demo));
    if (!res.ok) throw new Error('the demo image could not be loaded');
    form.append('image', await res.blob(), demo + '.jpg');
  }
  form.append('question', $('question').value);
  form.append('task', $('task').value);
  if ($('modality').value) form.append('modality', $('modality').value);
  return form;
}

/** Reads a text/event-stream body, calling onEvent(name, data) per event. */
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = 'message'; const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}

function renderEvidence(ev, chosenK) {
  const box = $('evidence');
  box.replaceChildren();
  evidenceLabels = new Map();
  const reports = ev.reports || [];
  box.append(el('h3', {}, `Reference reports (${reports.length}${chosenK !== undefined ? `, chosen k = ${chosenK}` : ''})`));
  if (!reports.length) box.append(el('p', { class: 'hint' }, 'No reports were retrieved.'));
  reports.forEach((r, i) => {
    const label = 'R' + (i + 1);
    evidenceLabels.set(r.id, label);
    const meta = r.metadata || {};
    box.append(el('article', { class: 'card evidence-card report', id: cardId(r.id), tabindex: '-1', 'data-evidence-id': r.id },
      el('header', {}, el('strong', {}, `${label} ${r.id}`), el('span', {}, `image score ${Number(r.score).toFixed(3)}`)),
      meta.diagnosis ? el('p', {}, el('em', {}, 'Diagnosis: '), meta.diagnosis) : '',
      el('p', { class: 'text' }, r.text), el('p', { class: 'hint' }, r.source || '')));
  });
  const knowledge = ev.knowledge || [];
  const byCorpus = new Map();
  for (const k of knowledge) { if (!byCorpus.has(k.corpus)) byCorpus.set(k.corpus, []); byCorpus.get(k.corpus).push(k); }
  box.append(el('h3', {}, `Knowledge (${knowledge.length})`));
  if (!knowledge.length) box.append(el('p', { class: 'hint' }, 'No knowledge was retrieved.'));
  let n = 0;
  for (const [corpus, hits] of byCorpus) {
    const query = (ev.queries || []).find((q) => q.corpus === corpus);
    const section = el('section', { class: 'corpus', 'aria-label': CORPUS_NAMES[corpus] || corpus },
      el('h4', {}, CORPUS_NAMES[corpus] || corpus), query ? el('p', { class: 'hint' }, 'Query: ', el('q', {}, query.text)) : '');
    for (const k of hits) {
      const label = 'K' + (++n);
      evidenceLabels.set(k.id, label);
      section.append(el('article', { class: 'card evidence-card knowledge', id: cardId(k.id), tabindex: '-1', 'data-evidence-id': k.id },
        el('header', {}, el('strong', {}, `${label} ${k.title || k.id}`), el('span', {}, `score ${Number(k.score).toFixed(3)}`)),
        el('p', { class: 'text' }, k.text), el('p', { class: 'hint' }, k.id)));
    }
    box.append(section);
  }
  const queries = ev.queries || [];
  box.append(el('h3', {}, 'Queries written per corpus'));
  const ql = el('ul', { id: 'queries' });
  for (const q of queries) ql.append(el('li', {}, el('strong', {}, (CORPUS_NAMES[q.corpus] || q.corpus) + ': '), q.text));
  box.append(queries.length ? ql : el('p', { class: 'hint' }, 'No queries (knowledge retrieval skipped).'));
}

function citationLinks(ids) {
  const span = el('span', { class: 'cites' });
  for (const id of ids || []) {
    const label = evidenceLabels.get(id) || id;
    const a = el('a', { class: 'cite', href: '#' + cardId(id), title: 'evidence ' + id }, `[${label}]`);
    a.addEventListener('click', (e) => {
      const card = document.getElementById(cardId(id));
      if (!card) return;
      e.preventDefault();
      card.scrollIntoView({ block: 'center' });
      card.focus();
      card.classList.add('flash');
      setTimeout(() => card.classList.remove('flash'), 1500);
    });
    span.append(a);
  }
  return span;
}

function renderDone(res) {
  const meta = $('answer-meta');
  meta.replaceChildren();
  const add = (k, v) => meta.append(el('dt', {}, k), el('dd', {}, v));
  add('Trace', res.trace_id || '(none)');
  add('Modality', res.modality);
  const m = res.models || {};
  add('Answerer', m.answerer || '-'); add('Image encoder', m.image_encoder || '-');
  add('Text encoder', m.text_encoder || '-'); add('Query generator', m.query_generator || '-');
  if (res.finish_reason) add('Finished by', res.finish_reason);
  if (res.evidence_dropped) add('Evidence left out of the prompt', res.evidence_dropped);
  const table = el('table', { id: 'latencies' }, el('caption', {}, 'Latency per stage'), el('tr', {}, el('th', {}, 'Stage'), el('th', {}, 'ms')));
  for (const l of res.latencies || []) table.append(el('tr', {}, el('td', {}, l.stage), el('td', { class: 'num' }, Number(l.millis).toFixed(1))));
  meta.after(table);
  if ((res.candidates || []).length > 1) {
    const list = el('ol', { id: 'candidates' });
    for (const c of res.candidates) list.append(el('li', {}, c.text, ' ', citationLinks(c.evidence_ids)));
    table.after(el('h3', {}, 'Candidates'), list);
  }
}

async function ask(event) {
  event.preventDefault();
  const button = $('ask');
  button.disabled = true;
  $('answer').replaceChildren();
  $('answer-meta').replaceChildren();
  document.querySelectorAll('#latencies, #candidates, #answer-section > h3').forEach((n) => n.remove());
  $('feedback-form').hidden = true;
  $('feedback-status').textContent = '';
  $('answer').setAttribute('aria-busy', 'true');
  status('Retrieving evidence…');
  let chosenK;
  try {
    const res = await fetch('v1/answer:stream', { method: 'POST', body: await requestForm(), headers: auth({ Accept: 'text/event-stream' }) });
    if (!res.ok) {
      const problem = await res.json().catch(() => ({ detail: res.statusText }));
      throw new Error(`${res.status}: ${problem.detail}`);
    }
    let evidence;
    await readEvents(res.body, (name, data) => {
      if (name === 'evidence') { evidence = data; renderEvidence(data); status('Writing the answer…'); }
      else if (name === 'segment') { $('answer').append(el('span', { class: 'segment' }, data.text), citationLinks(data.citations)); }
      else if (name === 'done') {
        chosenK = data.reports_chosen_k;
        renderEvidence(evidence || data, chosenK);
        if (!$('answer').textContent) $('answer').append(data.answer);
        renderDone(data);
        $('trace-id').value = data.trace_id;
        $('feedback-form').hidden = !data.trace_id;
        status('Answered.');
        loadTraces();
      } else if (name === 'error') { throw new Error(`${data.status}: ${data.detail}`); }
    });
  } catch (e) {
    status('Not answered: ' + e.message, true);
  } finally {
    button.disabled = false;
    $('answer').setAttribute('aria-busy', 'false');
  }
}

async function sendFeedback(event) {
  event.preventDefault();
  const rating = Number(document.querySelector('input[name=rating]:checked').value);
  const body = { trace_id: $('trace-id').value, rating, correct_answer: $('correct-answer').value, comment: $('comment').value };
  const out = $('feedback-status');
  try {
    const res = await fetch('v1/feedback', { method: 'POST', headers: auth({ 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${res.status}: ${json.detail}`);
    out.textContent = 'Feedback sent (' + json.feedback_id + ').';
    out.className = 'ok';
    loadTraces();
  } catch (e) {
    out.textContent = 'Feedback not sent: ' + e.message;
    out.className = 'error';
  }
}

/** The API key a secure stack asks for (authorization: Bearer), from the page's field only. */
function auth(headers) {
  const key = $('api-key').value.trim();
  if (key) headers.Authorization = 'Bearer ' + key;
  return headers;
}

const VERDICTS = { '1': 'correct', '-1': 'wrong', '0': 'unsure' };

async function loadTraces() {
  const box = $('traces');
  try {
    const res = await fetch('v1/traces?page_size=10', { headers: auth({}) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${res.status}: ${json.detail}`);
    box.replaceChildren(el('p', { class: 'hint' }, `${json.total} answers stored; the newest ${json.traces.length}:`));
    for (const { trace, feedback } of json.traces) {
      const card = el('article', { class: 'card trace', 'data-trace-id': trace.trace_id },
        el('header', {}, el('strong', {}, new Date(Number(trace.created_at_ms)).toLocaleString()), el('span', {}, `${trace.task} · ${trace.trace_id}`)),
        el('p', {}, el('em', {}, 'Q: '), trace.question), el('p', {}, el('em', {}, 'A: '), trace.answer));
      const fl = el('ul', { class: 'feedback' });
      for (const f of feedback) {
        fl.append(el('li', {}, `${VERDICTS[String(f.rating)] || f.rating}`, f.correct_answer ? ` — right answer: ${f.correct_answer}` : '',
          f.comment ? ` — note: ${f.comment}` : ''));
      }
      card.append(feedback.length ? fl : el('p', { class: 'hint' }, 'No feedback yet.'));
      box.append(card);
    }
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error' }, 'Traces unavailable: ' + e.message));
  }
}

$('ask-form').addEventListener('submit', ask);
$('feedback-form').addEventListener('submit', sendFeedback);
$('image-file').addEventListener('change', showChoice);
$('demo-image').addEventListener('change', showChoice);
$('refresh-traces').addEventListener('click', loadTraces);
loadDemoImages();
loadTraces();
