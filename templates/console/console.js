/* The staff console: plain JavaScript, no library, nothing loaded from
 * elsewhere. Every text a resident or staff member typed is put in the page
 * with textContent, never as HTML. Calls go to /admin/ui/ with the session
 * cookie and, for POST, the CSRF token of the page. */
(function () {
  'use strict';

  var CSRF = document.querySelector('meta[name=csrf]').getAttribute('content');
  var SCOPE = document.body.getAttribute('data-scope') || '';
  var META = { procedures: [], channels: [], statuses: [] };
  var T = window.DVC_TEXTS; /* console_texts.js: what the page says */
  var STATUS_NAMES = {}; /* from meta: intents/_dossier_status.json */
  var CHANNEL_NAMES = T.channelNames;
  var BC_STATUS = T.broadcastStatus;
  var ERRORS = T.errors;
  var BUTTON_ACTIONS = T.buttonActions;
  var UPLOAD = { fields: {}, reasons: [] }; /* from meta: templates/console/upload_texts.json */
  var UNAPPLIED = T.unapplied;
  var SETTLE = T.settle;
  var SETTLE_DONE = T.settleDone;

  /* ===== Small helpers ===== */

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    var k;
    for (k in (attrs || {})) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  /* A button for what cannot be undone: the first press only says what a
   * second press does (no pop-up, which officers close without reading). */
  function twoPress(text, armedText, cls, act) {
    var armed = false;
    var b = el('button', { type: 'button', cls: cls, text: text, onclick: function () {
      if (!armed) { armed = true; b.className = ''; b.textContent = armedText; return; }
      b.disabled = true;
      act();
    } });
    return b;
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /* Unix seconds → "dd/mm/yyyy hh:mm" in Vietnam time, whatever the PC's zone. */
  function fmtTime(unix) {
    var t = Number(unix);
    if (!t) return '';
    var d = new Date((t + 7 * 3600) * 1000);
    return pad(d.getUTCDate()) + '/' + pad(d.getUTCMonth() + 1) + '/' + d.getUTCFullYear() +
      ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
  }

  /* An ISO 8601 date ("2025-01-20") or time ("2025-01-10T08:00:00+07:00")
   * of a dossier as staff write it: "20/01/2025", "10/01/2025 08:00"
   * (Vietnam time); anything else as it is. */
  function fmtIso(iso) {
    var s = iso || '', day = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s);
    if (day) return day[3] + '/' + day[2] + '/' + day[1];
    var ms = /^\d{4}-\d\d-\d\dT/.test(s) ? Date.parse(s) : NaN;
    return isNaN(ms) ? s : fmtTime(ms / 1000);
  }

  function fmtWait(seconds) {
    var s = Math.max(0, Math.round(seconds));
    if (s < 3600) return Math.floor(s / 60) + ' phút';
    if (s < 86400) return Math.floor(s / 3600) + ' giờ ' + Math.floor((s % 3600) / 60) + ' phút';
    return Math.floor(s / 86400) + ' ngày ' + Math.floor((s % 86400) / 3600) + ' giờ';
  }

  function pct(v) { return v === null || v === undefined ? '—' : (Math.round(v * 10) / 10) + '%'; }

  function procName(id) {
    for (var i = 0; i < META.procedures.length; i++)
      if (META.procedures[i].id === id) return META.procedures[i].name;
    return id || '';
  }

  function notice(text) {
    var n = $('notice');
    n.textContent = text;
    n.hidden = !text;
  }

  /* A call to /admin/ui/<path>. Resolves to {status, data}; a finished
   * session sends the user back to the sign-in form. */
  function api(method, path, body, contentType, extra) {
    var headers = { 'X-CSRF-Token': CSRF };
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Blob)) {
      body = JSON.stringify(body);
      contentType = 'application/json';
    }
    if (contentType) headers['Content-Type'] = contentType;
    return fetch('/admin/ui/' + path, {
      method: method, headers: headers, body: body, credentials: 'same-origin', cache: 'no-store'
    }).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (r.status === 401) {
          notice('Phiên làm việc đã kết thúc. Đang chuyển về trang đăng nhập…');
          setTimeout(function () { location.href = '/admin'; }, 1500);
        }
        return { status: r.status, data: data };
      });
    }, function () {
      return { status: 0, data: { error: 'Không kết nối được máy chủ.' } };
    });
  }


  function errorVi(msg) {
    for (var i = 0; i < ERRORS.length; i++) {
      var m = ERRORS[i][0].exec(msg);
      if (m) return ERRORS[i][1].replace(/\$(\d)/g, function (_, k) { return m[k] || ''; });
    }
    return msg;
  }

  function errorText(res) {
    var msg = res.data && res.data.error;
    if (res.status === 0) return 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.';
    if (res.status === 503) return 'Máy chủ dữ liệu đang tạm ngừng. Vui lòng thử lại sau ít phút.';
    if (res.status === 401) return errorVi(msg || 'not signed in');
    if (res.status === 403) return 'Không được phép (' + errorVi(msg || '') + ').';
    return msg ? 'Lỗi: ' + errorVi(msg) : 'Lỗi ' + res.status;
  }

  /* ===== Tables and CSV ===== */

  function csvCell(v) {
    var s = v === null || v === undefined ? '' : String(v);
    if (/^[=+\-@]/.test(s)) s = "'" + s; /* a spreadsheet must not run it as a formula */
    return /[",\r\n;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function downloadCsv(name, cols, rows) {
    var lines = [cols.map(function (c) { return csvCell(c.title); }).join(',')];
    rows.forEach(function (r) {
      lines.push(cols.map(function (c) { return csvCell(c.csv ? c.csv(r) : cellText(c, r)); }).join(','));
    });
    /* UTF-8 with BOM, so spreadsheet programs show Vietnamese letters. */
    var blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    var a = el('a', { href: URL.createObjectURL(blob), download: name + '.csv' });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function cellText(c, r) {
    var v = c.get ? c.get(r) : r[c.key];
    return v === null || v === undefined ? '' : String(v);
  }

  /* Renders rows into box as a table with a CSV button. A column:
   * {title, key | get(row), num, cell(row) → node, csv(row) → text}. */
  function table(box, name, cols, rows, opts) {
    opts = opts || {};
    clear(box);
    if (!rows.length) {
      box.appendChild(el('p', { cls: 'hint', text: opts.empty || 'Chưa có dữ liệu.' }));
      return;
    }
    var head = el('tr', {}, cols.map(function (c) { return el('th', { cls: c.num ? 'n' : '', text: c.title }); }));
    var body = el('tbody', {}, rows.map(function (r) {
      var tr = el('tr', { cls: opts.rowClass ? opts.rowClass(r) : '' }, cols.map(function (c) {
        var td = el('td', { cls: c.num ? 'n' : '' });
        if (c.cell) { var n = c.cell(r); if (n) td.appendChild(n); }
        else td.textContent = cellText(c, r);
        return td;
      }));
      if (opts.onRow) {
        tr.style.cursor = 'pointer';
        tr.tabIndex = 0; /* reachable with Tab, opened with Enter */
        if (opts.rowTitle) tr.title = opts.rowTitle;
        tr.addEventListener('click', function () { opts.onRow(r); });
        tr.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') opts.onRow(r); });
      }
      return tr;
    }));
    box.appendChild(el('button', {
      type: 'button', cls: 'light csv', text: 'Tải CSV',
      onclick: function () { downloadCsv(name, cols, rows); }
    }));
    box.appendChild(el('table', {}, [el('thead', {}, [head]), body]));
  }

  /* ===== Tabs ===== */

  var loaders = {};

  function showTab() {
    var id = (location.hash || '#bc').slice(1);
    if (!$(id) || !$(id).classList.contains('tab')) id = 'bc';
    if (id === 'nk' && document.body.classList.contains('scoped')) id = 'bc'; /* the province's */
    if (id === 'xd' && !document.body.classList.contains('scoped')) id = 'bc'; /* a commune desk's */
    Array.prototype.forEach.call(document.querySelectorAll('.tab'), function (s) {
      s.classList.toggle('on', s.id === id);
    });
    Array.prototype.forEach.call(document.querySelectorAll('#tabs a'), function (a) {
      a.classList.toggle('on', a.getAttribute('href') === '#' + id);
    });
    if (loaders[id]) loaders[id]();
  }

  /* ===== Broadcasts ===== */

  var following = null;

  function fillButtonActions() {
    Array.prototype.forEach.call(document.querySelectorAll('#bc-form .bp'), function (sel) {
      clear(sel);
      BUTTON_ACTIONS.forEach(function (a) { sel.appendChild(el('option', { value: a[0], text: a[1] })); });
      META.procedures.forEach(function (p) {
        sel.appendChild(el('option', { value: 'flow:' + p.id, text: 'Làm thủ tục: ' + p.name }));
      });
    });
  }

  function fillSegmentChoices() {
    var box = clear($('bc-channels'));
    META.channels.forEach(function (c) {
      box.appendChild(el('label', {}, [el('input', { type: 'checkbox', value: c, checked: 'checked' }),
        document.createTextNode(' ' + (CHANNEL_NAMES[c] || c))]));
    });
    var st = $('bc-status');
    META.statuses.forEach(function (s) { st.appendChild(el('option', { value: s, text: STATUS_NAMES[s] || s })); });
  }

  /* What the form says is wrong before asking the server, or '': a button
   * row half filled (a label without an action, or an action without a
   * label, would otherwise be dropped without a word), or a time to send
   * that has passed (the server sends it at once: a wrong year sent today). */
  function formProblem() {
    var when = $('bc-when').value;
    if (when && Date.parse(when + ':00+07:00') < Date.now() - 60000) return T.whenPast;
    var rows = document.querySelectorAll('#bc-form .btnrow');
    for (var i = 0; i < rows.length; i++) {
      var label = rows[i].querySelector('.bl').value.trim(), payload = rows[i].querySelector('.bp').value;
      if (label && !payload) return T.buttonNoAction.replace('$1', label);
      if (payload && !label) return T.buttonNoLabel.replace('$1', String(i + 1));
    }
    return '';
  }

  /* Choosing what a button does fills its empty label with the choice's name. */
  function defaultLabel(ev) {
    var sel = ev.target;
    if (!sel.classList.contains('bp') || !sel.value) return;
    var input = sel.parentNode.querySelector('.bl');
    if (input.value.trim()) return;
    var name = sel.options[sel.selectedIndex].text.replace(/^Làm thủ tục: /, '');
    input.value = name.slice(0, Number(input.getAttribute('maxlength')) || 40);
  }

  function broadcastBody() {
    var buttons = [];
    Array.prototype.forEach.call(document.querySelectorAll('#bc-form .btnrow'), function (row) {
      var label = row.querySelector('.bl').value.trim(), payload = row.querySelector('.bp').value;
      if (label && payload) buttons.push({ label: label, payload: payload });
    });
    var seg = { channels: [] };
    Array.prototype.forEach.call(document.querySelectorAll('#bc-channels input:checked'), function (c) {
      seg.channels.push(c.value);
    });
    var communes = $('bc-communes').value.split(',').map(function (s) { return s.trim(); })
      .filter(function (s) { return s; });
    if (communes.length && !SCOPE) seg.communes = communes;
    if ($('bc-seen').value) seg.seen_within_days = Number($('bc-seen').value);
    if ($('bc-status').value) seg.dossier_status = $('bc-status').value;
    var body = { text: $('bc-text').value, buttons: buttons, segment: seg };
    if ($('bc-when').value) body.not_before = $('bc-when').value;
    return body;
  }

  function renderPreview() {
    var b = broadcastBody();
    $('bc-preview').textContent = b.text;
    var box = clear($('bc-pbtn'));
    b.buttons.forEach(function (x) { box.appendChild(el('span', { text: x.label })); });
  }

  /* A new key for each message composed: pressing "Gửi" again after an
   * answer that never came back (or twice) sends it once (Idempotency-Key). */
  var sendKey = '';

  function newSendKey() {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    sendKey = 'console-' + Array.prototype.map.call(a, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  function formChanged() {
    renderPreview();
    newSendKey();
    $('bc-send').disabled = true;
    $('bc-send').textContent = 'Gửi tin';
    $('bc-count').textContent = '';
  }

  function checkRecipients() {
    var problem = formProblem();
    $('bc-error').textContent = problem;
    if (problem) { $('bc-count').textContent = ''; return; }
    $('bc-count').textContent = 'Đang đếm…';
    api('POST', 'broadcasts/count', broadcastBody()).then(function (res) {
      if (res.status !== 200) {
        $('bc-count').textContent = '';
        $('bc-error').textContent = errorText(res);
        return;
      }
      var n = res.data.recipients;
      $('bc-count').textContent = n ? 'Tin sẽ tới ' + n + ' người.' : T.noRecipients;
      $('bc-send').disabled = n === 0;
      $('bc-send').textContent = 'Gửi tin cho ' + n + ' người';
    });
  }

  function sendBroadcast(ev) {
    ev.preventDefault();
    if ($('bc-send').disabled) return; /* Enter in a field before the count */
    $('bc-send').disabled = true;
    $('bc-error').textContent = '';
    api('POST', 'broadcasts', broadcastBody(), null, { 'Idempotency-Key': sendKey }).then(function (res) {
      if (res.status !== 202) {
        $('bc-error').textContent = errorText(res);
        /* no answer, or the store was down: the same key makes a retry safe */
        $('bc-send').disabled = !(res.status === 0 || res.status === 503);
        return;
      }
      $('bc-count').textContent = 'Đã tạo lần phát tin số ' + res.data.id + ' cho ' + res.data.recipients + ' người.';
      follow(res.data.id);
      loadBroadcasts();
    });
  }

  /* The broadcast this tab follows is remembered for the tab, so a reload
   * in the middle of a send shows its progress again. */
  var FOLLOW_KEY = 'dvc-console-following';

  function remember(id) {
    try {
      if (id) sessionStorage.setItem(FOLLOW_KEY, id);
      else sessionStorage.removeItem(FOLLOW_KEY);
    } catch (e) { /* storage off: only the reload loses it */ }
  }

  function remembered() {
    try { return sessionStorage.getItem(FOLLOW_KEY); } catch (e) { return null; }
  }

  function isLive(status) { return status === 'resolving' || status === 'scheduled' || status === 'running'; }

  function follow(id) {
    if (following !== id) disarmCancel();
    following = id;
    remember(id);
    $('bc-follow').hidden = false;
    $('bcf-id').textContent = id;
    pollBroadcast(id);
  }

  function pollBroadcast(id) {
    if (following !== id) return;
    api('GET', 'broadcasts/' + encodeURIComponent(id)).then(function (res) {
      if (following !== id || res.status !== 200) return;
      var d = res.data, c = d.counts;
      $('bcf-status').textContent = BC_STATUS[d.status] || d.status;
      $('bcf-status').setAttribute('data-status', d.status);
      ['sent', 'failed', 'blocked', 'skipped', 'remaining'].forEach(function (k) { $('bcf-' + k).textContent = c[k]; });
      var total = d.recipients || 0, doneN = total - c.remaining;
      $('bcf-bar').style.width = (total ? Math.round(doneN * 100 / total) : 100) + '%';
      var live = isLive(d.status);
      $('bcf-cancel').hidden = !live;
      if (live) setTimeout(function () { pollBroadcast(id); }, 1000);
      else { remember(null); loadBroadcasts(); }
    });
  }

  var cancelArmed = false;

  function disarmCancel() {
    cancelArmed = false;
    $('bcf-cancel').textContent = T.cancel;
  }

  /* Stopping cannot be undone: the first press asks for a second one. */
  function cancelFollowed() {
    if (!following) return;
    if (!cancelArmed) { cancelArmed = true; $('bcf-cancel').textContent = T.cancelConfirm; return; }
    disarmCancel();
    api('POST', 'broadcasts/' + encodeURIComponent(following) + '/cancel').then(function (res) {
      if (res.status !== 200) $('bc-error').textContent = errorText(res);
      pollBroadcast(following);
    });
  }

  function segmentText(seg) {
    if (!seg) return '';
    var parts = [(seg.channels || []).map(function (c) { return CHANNEL_NAMES[c] || c; }).join(', ')];
    if (seg.communes) parts.push('xã: ' + seg.communes.join(', '));
    if (seg.seen_within_days) parts.push('nhắn trong ' + seg.seen_within_days + ' ngày');
    if (seg.dossier_status) parts.push('hồ sơ ' + (STATUS_NAMES[seg.dossier_status] || seg.dossier_status));
    return parts.join('; ');
  }

  function loadBroadcasts() {
    api('GET', 'broadcasts').then(function (res) {
      if (res.status !== 200) return;
      table($('bc-list'), 'phat-tin', [
        { title: 'Số', key: 'id', num: true },
        { title: 'Tạo lúc', get: function (r) { return fmtTime(r.created); } },
        { title: 'Hẹn gửi', get: function (r) { return Number(r.not_before) ? fmtTime(r.not_before) : ''; } },
        { title: 'Nội dung', key: 'text' },
        { title: 'Gửi cho', get: function (r) { return segmentText(r.segment); } },
        { title: 'Trạng thái', get: function (r) { return BC_STATUS[r.status] || r.status; } },
        { title: 'Người nhận', key: 'recipients', num: true },
        { title: 'Đã gửi', key: 'sent', num: true },
        { title: 'Lỗi', key: 'failed', num: true },
        { title: 'Bị chặn', key: 'blocked', num: true },
        { title: 'Bỏ qua', key: 'skipped', num: true }
      ], res.data.broadcasts, { empty: 'Chưa phát tin lần nào.', rowTitle: T.followRow,
        onRow: function (r) { follow(r.id); } });
      var id = remembered();
      if (!following && id) {
        var mine = res.data.broadcasts.filter(function (r) { return r.id === id && isLive(r.status); });
        if (mine.length) follow(id); else remember(null);
      }
    });
  }

  function initBroadcasts() {
    fillButtonActions();
    fillSegmentChoices();
    var form = $('bc-form');
    form.addEventListener('input', formChanged);
    form.addEventListener('change', defaultLabel);
    form.addEventListener('change', formChanged);
    form.addEventListener('submit', sendBroadcast);
    $('bc-check').addEventListener('click', checkRecipients);
    $('bcf-cancel').addEventListener('click', cancelFollowed);
    renderPreview();
    newSendKey();
    loaders.bc = loadBroadcasts;
  }

  /* ===== Start ===== */

  function start() {
    api('GET', 'meta').then(function (res) {
      if (res.status === 200 && res.data) META = res.data;
      STATUS_NAMES = META.status_names || {};
      UPLOAD = META.upload_texts || UPLOAD;
      fillCommunes($('commune-names'), '');
      $('bc-communes').addEventListener('input', suggestCommunes);
      initBroadcasts();
      Object.keys(SECTIONS).forEach(function (k) { SECTIONS[k](); });
      window.addEventListener('hashchange', showTab);
      showTab();
      document.body.setAttribute('data-ready', '1');
    });
  }

  /* The 2025 communes (meta) as suggestions; prefix: the names typed before
   * the one being typed, so a list "Chiềng Cơi, Mư…" is completed whole. */
  function fillCommunes(list, prefix) {
    clear(list);
    (META.communes || []).forEach(function (c) {
      list.appendChild(el('option', { value: prefix + c.name, text: c.label }));
    });
  }

  function suggestCommunes() {
    var v = $('bc-communes').value, cut = v.lastIndexOf(',');
    fillCommunes($('bc-commune-names'), cut < 0 ? '' : v.slice(0, cut + 1).replace(/\s*$/, ' '));
  }

  var SECTIONS = {};
  window.dvcConsole = { sections: SECTIONS };

  /* ===== Dossiers ===== */

  function reasonVi(reason) {
    var rs = UPLOAD.reasons;
    for (var i = 0; i < rs.length; i++) if (reason.indexOf(rs[i][0]) === 0) return rs[i][1];
    return reason;
  }

  function yesNo(v) { return v ? 'có' : 'không'; }

  function uploadDossiers(ev) {
    ev.preventDefault();
    var f = $('hs-file').files[0];
    if (!f) return;
    var csv = /\.csv$/i.test(f.name) || f.type === 'text/csv';
    $('hs-result').textContent = 'Đang tải lên ' + f.name + '…';
    $('hs-error').textContent = '';
    api('POST', 'dossiers', f, csv ? 'text/csv' : 'application/json').then(function (res) {
      var d = res.data;
      if (!d || d.received === undefined) {
        $('hs-result').textContent = '';
        $('hs-error').textContent = errorText(res);
        return;
      }
      $('hs-result').textContent = 'Đã đọc ' + d.received + ' hồ sơ: lưu ' + d.stored + ' (mới ' + d.created +
        ', cập nhật ' + d.updated + ', không đổi ' + d.unchanged + '); bị từ chối ' + d.invalid + '.' +
        (d.failed || res.status !== 200 ? ' Có ' + d.failed + ' hồ sơ chưa lưu được do máy chủ dữ liệu; hãy tải lại tệp.' : '');
      table($('hs-errors'), 'ho-so-bi-tu-choi', [
        { title: 'Dòng', key: 'line', num: true },
        { title: 'Mã hồ sơ', key: 'code' },
        { title: 'Trường', get: function (r) { return UPLOAD.fields[r.field] || r.field; } },
        { title: 'Lý do', get: function (r) { return reasonVi(r.reason); } },
        { title: 'Chi tiết', key: 'reason' }
      ], d.errors || [], { empty: 'Không có dòng nào bị từ chối.' });
    });
  }

  function findDossier(ev) {
    ev.preventDefault();
    var code = $('hs-code').value.trim();
    $('hs-none').textContent = '';
    clear($('hs-found'));
    api('GET', 'dossiers/' + encodeURIComponent(code)).then(function (res) {
      if (res.status === 404) { $('hs-none').textContent = 'Không tìm thấy hồ sơ ' + code + '.'; return; }
      if (res.status !== 200) { $('hs-none').textContent = errorText(res); return; }
      var d = res.data, late = d.days_late > 0;
      var rows = [
        ['Mã hồ sơ', d.code], ['Thủ tục', d.procedure_name || d.procedure], ['Người nộp', d.applicant],
        ['Điện thoại (4 số cuối)', d.phone_last4], ['Xã/phường', d.commune], ['Cơ quan', d.agency],
        ['Trạng thái', STATUS_NAMES[d.status] || d.status], ['Ngày nhận', fmtIso(d.received_at)],
        ['Hạn trả', fmtIso(d.due_at)], ['Ngày trả', fmtIso(d.finished_at)],
        ['Đúng hạn', late ? 'Trễ ' + d.days_late + ' ngày' : (d.due_at ? 'Đúng hạn' : '—')],
        ['Lệ phí', d.fee ? d.fee.toLocaleString('vi-VN') + ' đ' : 'Không có'],
        ['Đã nộp phí', yesNo(d.paid)], ['Nộp trực tuyến', yesNo(d.submitted_online)],
        ['Nộp phí trực tuyến', yesNo(d.paid_online)], ['Ghi chú', d.note]
      ].map(function (r) { return { k: r[0], v: r[1] }; });
      table($('hs-found'), 'ho-so-' + d.code, [{ title: 'Mục', key: 'k' }, { title: 'Nội dung', key: 'v' }], rows);
    });
  }



  /* Settling asks for a second press on the same button (no pop-up). */
  function settleButton(r, how) {
    return twoPress(SETTLE[how], T.settleConfirm + SETTLE[how].toLowerCase(), 'light', function () {
      api('POST', 'payments/settled', { ref: r.ref, how: how }).then(function (res) {
        notice(res.status === 200 ? SETTLE_DONE[how] + r.code + '.' : errorText(res));
        loadUnapplied();
      });
    });
  }

  function settleCell(r) {
    var kids = [settleButton(r, 'refunded')];
    if (r.reason !== 'already_paid' && r.reason !== 'no_dossier') kids.push(settleButton(r, 'applied'));
    return el('span', { cls: 'actions' }, kids);
  }

  function loadUnapplied() {
    api('GET', 'payments/unapplied').then(function (res) {
      if (res.status !== 200) { notice(errorText(res)); return; }
      table($('hs-unapplied'), 'thanh-toan-chua-ghi-nhan', [
        { title: 'Thời điểm', get: function (r) { return fmtTime(r.paid_at); } },
        { title: 'Mã hồ sơ', key: 'code' },
        { title: 'Thủ tục', get: function (r) { return r.procedure_name || r.procedure; } },
        { title: 'Xã/phường', key: 'commune' },
        { title: 'Số tiền (đ)', num: true, get: function (r) { return r.amount.toLocaleString('vi-VN'); }, csv: function (r) { return r.amount; } },
        { title: 'Lý do', get: function (r) { return UNAPPLIED[r.reason] || r.reason; } },
        { title: 'Mã giao dịch', get: function (r) { return r.transaction_no + ' (' + r.ref + ')'; } },
        { title: 'Xử lý', get: function () { return ''; }, cell: settleCell }
      ], res.data.payments, { empty: 'Không có khoản thanh toán nào cần xử lý.' });
    });
  }

  SECTIONS.hs = function () {
    $('hs-upload').addEventListener('submit', uploadDossiers);
    $('hs-search').addEventListener('submit', findDossier);
    loaders.hs = loadUnapplied;
  };


  /* ===== Indicators ===== */

  var ROMAN = ['', 'I', 'II', 'III', 'IV'];
  var SVG = 'http://www.w3.org/2000/svg';

  function periodLabel(id) {
    var m = /^(\d{4})-(M(\d\d)|Q(\d)|H(\d)|Y)$/.exec(id || '');
    if (!m) return id;
    if (m[3]) return 'Tháng ' + Number(m[3]) + '/' + m[1];
    if (m[4]) return 'Quý ' + ROMAN[Number(m[4])] + '/' + m[1];
    if (m[5]) return '6 tháng ' + (m[5] === '1' ? 'đầu' : 'cuối') + ' năm ' + m[1];
    return 'Năm ' + m[1];
  }

  function fmtDay(iso) { var p = iso.split('-'); return p[2] + '/' + p[1] + '/' + p[0]; }

  function fmtSecs(s) {
    if (s === null || s === undefined) return '—';
    if (s < 3600) return Math.floor(s / 60) + ' phút ' + (s % 60) + ' giây';
    return Math.floor(s / 3600) + ' giờ ' + Math.floor((s % 3600) / 60) + ' phút';
  }

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* A row's name in a report by `by`: the bot's records of procedures that
   * ask no commune (and dossiers without one) are "không theo xã". */
  function rowName(by, r) {
    if (by === 'procedure' && r.key === 'chung') return 'Đánh giá chung';
    if (r.name) return r.name;
    return by === 'commune' ? 'Không theo xã' : 'Không rõ';
  }

  /* Horizontal bars of one share per row, with the target as a dashed line. */
  function barChart(title, rows, key, target, by) {
    rows = rows.filter(function (r) { return r[key] !== null; });
    var h = 22, left = 150, width = 460, top = 24;
    var svg = svgEl('svg', { 'class': 'chart', viewBox: '0 0 ' + (left + width + 50) + ' ' + (top + h * rows.length + 10),
      role: 'img', 'aria-label': title });
    svg.appendChild(svgEl('text', { x: 0, y: 14, 'font-weight': 'bold' }, title));
    rows.forEach(function (r, i) {
      var y = top + i * h, v = r[key], ok = target === undefined || v >= target;
      svg.appendChild(svgEl('text', { x: left - 6, y: y + 14, 'text-anchor': 'end' }, rowName(by, r).slice(0, 24)));
      svg.appendChild(svgEl('rect', { x: left, y: y + 3, width: Math.max(1, width * v / 100), height: h - 8,
        fill: ok ? '#2e7d32' : '#c62828' }));
      svg.appendChild(svgEl('text', { x: left + width * v / 100 + 4, y: y + 14 }, pct(v)));
    });
    if (target !== undefined) {
      var x = left + width * target / 100;
      svg.appendChild(svgEl('line', { x1: x, x2: x, y1: top - 4, y2: top + h * rows.length,
        stroke: '#1d2a33', 'stroke-dasharray': '4 3' }));
      svg.appendChild(svgEl('text', { x: x, y: top - 6, 'text-anchor': 'middle' }, 'mục tiêu ' + target + '%'));
    }
    return rows.length ? svg : null;
  }

  function shareCell(key, target) {
    return function (r) {
      var v = r[key];
      var cls = v === null || target === undefined ? '' : (v >= target ? 'ok' : 'bad');
      return el('span', { cls: cls, text: pct(v) });
    };
  }

  function card(title, value, sub, good) {
    return el('div', { cls: 'panel' }, [
      el('span', { text: title }),
      el('b', { cls: good === undefined ? '' : (good ? 'ok' : 'bad'), text: value }),
      el('span', { cls: 'hint', text: sub })
    ]);
  }

  function loadIndicators() {
    var q = 'indicators?by=' + encodeURIComponent($('cs-by').value);
    if ($('cs-period').value) q += '&period=' + encodeURIComponent($('cs-period').value);
    api('GET', q).then(function (res) {
      if (res.status !== 200) { $('cs-range').textContent = errorText(res); return; }
      var d = res.data, t = d.total, g = d.targets, sel = $('cs-period');
      if (!sel.options.length) {
        d.periods.forEach(function (id) { sel.appendChild(el('option', { value: id, text: periodLabel(id) })); });
        sel.value = d.period.id;
      }
      $('cs-range').textContent = periodLabel(d.period.id) + ': từ ' + fmtDay(d.period.from) +
        ' đến hết ' + fmtDay(d.period.to) + (d.scope ? ' — xã ' + d.scope : ' — toàn tỉnh') + '.';
      var cards = clear($('cs-cards'));
      cards.appendChild(card('Hồ sơ toàn trình', pct(t.fully_online_pct), t.fully_online + '/' + t.received +
        ' hồ sơ · mục tiêu ≥ ' + g.fully_online_pct + '%', t.fully_online_pct === null ? undefined : t.fully_online_pct >= g.fully_online_pct));
      cards.appendChild(card('Giải quyết đúng hạn', pct(t.on_time_pct), t.on_time + '/' + t.finished +
        ' hồ sơ · mục tiêu ' + g.on_time_pct + '%', t.on_time_pct === null ? undefined : t.on_time_pct >= g.on_time_pct));
      cards.appendChild(card('Lệ phí nộp trực tuyến', pct(t.fee_online_pct), t.fee_paid_online + '/' + t.fee_paid + ' hồ sơ có lệ phí'));
      cards.appendChild(card('Hài lòng (4–5 sao)', pct(t.satisfaction_pct), t.satisfied + '/' + t.ratings +
        ' đánh giá · mục tiêu ≥ ' + g.satisfaction_pct + '%', t.satisfaction_pct === null ? undefined : t.satisfaction_pct >= g.satisfaction_pct));
      cards.appendChild(card('Thời gian tới khi có mã hồ sơ', fmtSecs(t.code_median_s), 'trung vị của ' + t.code_n + ' lượt làm thủ tục'));
      if (t.messages !== null) {
        cards.appendChild(card('Tin nhắn chưa hiểu', pct(t.not_understood_pct), t.not_understood + '/' + t.messages + ' tin'));
        cards.appendChild(card('Chuyển cán bộ', String(t.handoffs), 'lượt trong kỳ'));
      }
      cards.appendChild(card('Hỗ trợ của tình nguyện viên', String(t.assists), 'lượt làm thủ tục cho người dân'));
      var box = clear($('cs-table'));
      var charts = el('div', { cls: 'cols' });
      [barChart('Tỷ lệ hồ sơ toàn trình', d.rows, 'fully_online_pct', g.fully_online_pct, d.by),
       barChart('Tỷ lệ giải quyết đúng hạn', d.rows, 'on_time_pct', g.on_time_pct, d.by)].forEach(function (c) {
        if (c) charts.appendChild(el('div', { cls: 'panel' }, [c]));
      });
      box.appendChild(charts);
      var tbl = el('div', { cls: 'tbl' });
      box.appendChild(tbl);
      var byName = { commune: 'Xã/phường', agency: 'Cơ quan', procedure: 'Thủ tục' }[d.by];
      var rows = d.rows.concat([Object.assign({ key: '*', name: 'Tổng cộng' }, t)]);
      table(tbl, 'chi-so-' + d.period.id + '-' + d.by, [
        { title: byName, get: function (r) { return r.key === '*' ? r.name : rowName(d.by, r); } },
        { title: 'Hồ sơ nhận', key: 'received', num: true },
        { title: 'Toàn trình', key: 'fully_online', num: true },
        { title: 'Tỷ lệ toàn trình', num: true, cell: shareCell('fully_online_pct', g.fully_online_pct), csv: function (r) { return r.fully_online_pct; } },
        { title: 'Có lệ phí đã nộp', key: 'fee_paid', num: true },
        { title: 'Nộp phí trực tuyến', key: 'fee_paid_online', num: true },
        { title: 'Tỷ lệ nộp phí trực tuyến', num: true, cell: shareCell('fee_online_pct'), csv: function (r) { return r.fee_online_pct; } },
        { title: 'Đã giải quyết', key: 'finished', num: true },
        { title: 'Đúng hạn', key: 'on_time', num: true },
        { title: 'Tỷ lệ đúng hạn', num: true, cell: shareCell('on_time_pct', g.on_time_pct), csv: function (r) { return r.on_time_pct; } },
        { title: 'Đánh giá', key: 'ratings', num: true },
        { title: 'Tỷ lệ hài lòng', num: true, cell: shareCell('satisfaction_pct', g.satisfaction_pct), csv: function (r) { return r.satisfaction_pct; } },
        { title: 'Thời gian tới mã hồ sơ (trung vị)', num: true, get: function (r) { return fmtSecs(r.code_median_s); }, csv: function (r) { return r.code_median_s; } },
        { title: 'Lượt TNV hỗ trợ', key: 'assists', num: true }
      ], rows, { rowClass: function (r) { return r.key === '*' ? 'total' : ''; } });
    });
  }

  SECTIONS.cs = function () {
    $('cs-form').addEventListener('submit', function (ev) { ev.preventDefault(); loadIndicators(); });
    loaders.cs = loadIndicators;
  };


  /* ===== Feedback and complaints ===== */

  var feedbackItems = [];

  function kindText(r) {
    if (r.kind === 'complaint') return 'Khiếu nại, phản ánh';
    return r.stars ? 'Đánh giá ' + r.stars + '★ kèm góp ý' : 'Góp ý';
  }

  function markHandled(r, handled) {
    api('POST', 'feedback/handled', { id: r.id, handled: handled }).then(function (res) {
      if (res.status === 200) loadFeedback();
      else notice(errorText(res));
    });
  }

  function renderFeedback() {
    var onlyOpen = $('gy-open').checked;
    var rows = feedbackItems.filter(function (r) { return !onlyOpen || !r.handled_at; });
    table($('gy-list'), 'gop-y-khieu-nai', [
      { title: 'Lúc', get: function (r) { return fmtTime(r.at); } },
      { title: 'Loại', get: kindText },
      { title: 'Nội dung', key: 'comment' },
      { title: 'Thủ tục', get: function (r) { return r.procedure === 'chung' ? 'Chung' : (r.procedure_name || r.procedure); } },
      { title: 'Xã/phường', key: 'commune' },
      { title: 'Kênh', get: function (r) { return CHANNEL_NAMES[r.channel] || r.channel; } },
      { title: 'Đã xử lý', get: function (r) { return r.handled_at ? fmtTime(r.handled_at) : ''; },
        cell: function (r) {
          return el('button', { type: 'button', cls: r.handled_at ? 'light' : '',
            text: r.handled_at ? 'Đã xử lý ' + fmtTime(r.handled_at) + ' · bỏ đánh dấu' : 'Đánh dấu đã xử lý',
            onclick: function () { markHandled(r, !r.handled_at); } });
        } }
    ], rows, { empty: 'Chưa có góp ý hay khiếu nại nào.', rowClass: function (r) { return r.handled_at ? 'done' : ''; } });
  }

  function loadFeedback() {
    api('GET', 'feedback').then(function (res) {
      if (res.status !== 200) { notice(errorText(res)); return; }
      feedbackItems = res.data.items;
      renderFeedback();
    });
  }

  SECTIONS.gy = function () {
    $('gy-open').addEventListener('change', renderFeedback);
    loaders.gy = loadFeedback;
  };

  /* ===== Hand-offs ===== */

  var handoffTimer = null;

  function loadHandoffs() {
    clearTimeout(handoffTimer);
    api('GET', 'handoffs').then(function (res) {
      if (res.status !== 200) { notice(errorText(res)); return; }
      table($('cb-list'), 'cho-can-bo', [
        { title: 'Số phiếu', key: 'ticket', num: true },
        { title: 'Kênh', get: function (r) { return CHANNEL_NAMES[r.channel] || r.channel; } },
        { title: 'Xã/phường', key: 'commune' },
        { title: 'Bắt đầu chờ', get: function (r) { return fmtTime(r.opened_at); } },
        { title: 'Đã chờ', get: function (r) { return fmtWait(r.waited_s); }, csv: function (r) { return r.waited_s; } },
        { title: 'Trả lời', get: function (r) { return '/reply ' + r.ticket + ' <nội dung>'; } }
      ], res.data.tickets, { empty: 'Không có ai đang chờ cán bộ.' });
      if (location.hash === '#cb') handoffTimer = setTimeout(loadHandoffs, 30000);
    });
  }

  SECTIONS.cb = function () { loaders.cb = loadHandoffs; };

  /* ===== Sign-in trail (province staff) ===== */

  function loadAudit() {
    api('GET', 'audit').then(function (res) {
      if (res.status !== 200) { notice(errorText(res)); return; }
      table($('nk-list'), 'nhat-ky-dang-nhap', [
        { title: 'Lúc', get: function (r) { return fmtTime(r.at); } },
        { title: 'Việc', get: function (r) { return T.auditEvents[r.event] || r.event; } },
        { title: 'Mã khóa', key: 'token' },
        { title: 'Phạm vi', get: function (r) { return r.label || T.auditProvince; } },
        { title: 'Từ địa chỉ', key: 'from' },
        { title: 'Người dân (mã băm)', get: function (r) { return r.user || ''; } }
      ], res.data.events, { empty: T.auditEmpty });
      table($('nk-failed'), 'dang-nhap-sai', [
        { title: 'Ngày', get: function (r) { return r.day.slice(6, 8) + '/' + r.day.slice(4, 6) + '/' + r.day.slice(0, 4); } },
        { title: 'Từ địa chỉ', get: function (r) { return r.from === '*' ? T.auditOther : r.from; } },
        { title: 'Số lần sai', key: 'count', num: true }
      ], res.data.failed, { empty: T.auditNoFailed });
    });
  }

  SECTIONS.nk = function () { loaders.nk = loadAudit; };

  /* ===== Desk-side erasure (commune desk officers) ===== */

  SECTIONS.xd = function () {
    $('xd-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var form = this, button = form.querySelector('button');
      $('xd-error').textContent = '';
      $('xd-done').textContent = '';
      button.disabled = true;
      api('POST', 'erase', { code: $('xd-code').value.trim() }).then(function (res) {
        button.disabled = false;
        if (res.status !== 200) { $('xd-error').textContent = errorText(res); return; }
        form.reset();
        $('xd-done').textContent = erasedText(res.data);
      });
    });
  };

  /* What was erased, in words: counts and kinds, nothing about the person. */
  function erasedText(d) {
    var kinds = (d.kinds || []).map(function (k) { return T.eraseKinds[k] || T.eraseKinds.other; });
    var text = T.eraseDone.replace('$1', String(d.items || 0)) + (kinds.length ? ' (' + kinds.join(', ') + ').' : '.');
    if (d.lists > 0) text += ' ' + T.eraseLists.replace('$1', String(d.lists));
    return text + ' ' + T.eraseTold;
  }


  /* ===== Volunteers ===== */

  function loadVolunteers() {
    api('GET', 'volunteers').then(function (res) {
      if (res.status !== 200) { notice(errorText(res)); return; }
      table($('tnv-list'), 'tinh-nguyen-vien', [
        { title: 'Mã người dùng', key: 'user' },
        { title: 'Xã/phường', key: 'commune' },
        { title: 'Từ ngày', get: function (r) { return fmtTime(r.added_at); } },
        { title: 'Hộ đã hỗ trợ', key: 'households', num: true },
        { title: 'Thủ tục đã làm cho người dân', key: 'flows', num: true },
        { title: '', csv: function () { return ''; }, cell: function (r) {
          return twoPress('Xóa', T.removeConfirm, 'danger', function () {
            api('POST', 'volunteers', { user: r.user, remove: true }).then(function (x) {
              if (x.status !== 200) notice(errorText(x));
              loadVolunteers();
            });
          });
        } }
      ], res.data.volunteers, { empty: 'Chưa có tình nguyện viên nào.' });
    });
    api('GET', 'coverage').then(function (res) {
      if (res.status !== 200) return;
      var rows = communeTotals(res.data.villages.sort(function (a, b) {
        return (a.commune_key + '|' + a.village).localeCompare(b.commune_key + '|' + b.village, 'vi');
      }));
      table($('tnv-cov'), 'do-phu-thon-ban', [
        { title: 'Xã/phường', key: 'commune' },
        { title: 'Thôn/bản', get: function (r) { return r.total ? 'Cả xã' : (r.village || '(người dân không đồng ý ghi nhận)'); } },
        { title: 'Số hộ', key: 'households', num: true },
        { title: 'Lượt hỗ trợ', key: 'visits', num: true },
        { title: 'VNeID mức 2', key: 'vneid', num: true },
        { title: 'Nộp trực tuyến', key: 'online', num: true },
        { title: 'Nộp phí trực tuyến', key: 'paid', num: true },
        { title: 'Đạt cả 3', key: 'met', num: true },
        { title: 'Độ phủ', num: true, cell: shareCell('coverage_pct', 100), csv: function (r) { return r.coverage_pct; } },
        { title: 'Không đồng ý', key: 'refused', num: true }
      ], rows, { empty: 'Chưa có thôn/bản nào. Thêm thôn/bản và số hộ ở ô bên trên.',
        rowClass: function (r) { return r.total ? 'total' : ''; } });
    });
  }

  /* A total row after each commune's villages. */
  function communeTotals(villages) {
    var out = [], sum = null;
    var keys = ['households', 'visits', 'vneid', 'online', 'paid', 'met', 'refused'];
    function flush() {
      if (!sum) return;
      sum.coverage_pct = sum.households ? Math.round(sum.met * 1000 / sum.households) / 10 : null;
      out.push(sum);
    }
    villages.forEach(function (v) {
      if (!sum || sum.commune_key !== v.commune_key) {
        flush();
        sum = { commune_key: v.commune_key, commune: v.commune, village: null, total: true };
        keys.forEach(function (k) { sum[k] = 0; });
      }
      if (v.commune) sum.commune = v.commune;
      keys.forEach(function (k) { sum[k] += v[k]; });
      out.push(v);
    });
    flush();
    return out;
  }

  function postForm(form, path, body, errBox) {
    $(errBox).textContent = '';
    api('POST', path, body).then(function (res) {
      if (res.status !== 200) { $(errBox).textContent = errorText(res); return; }
      form.reset();
      loadVolunteers();
    });
  }

  /* The browser's own "match the requested format" says nothing to an officer. */
  function explainUserKey() {
    var key = $('tnv-user');
    key.setCustomValidity('');
    if (key.validity.patternMismatch) key.setCustomValidity(T.volunteerKey);
  }

  SECTIONS.tnv = function () {
    $('tnv-user').addEventListener('input', explainUserKey);
    $('tnv-add').addEventListener('submit', function (ev) {
      ev.preventDefault();
      postForm(this, 'volunteers', { user: $('tnv-user').value.trim(), commune: $('tnv-commune').value.trim() }, 'tnv-error');
    });
    $('tnv-village').addEventListener('submit', function (ev) {
      ev.preventDefault();
      postForm(this, 'villages', { commune: $('tv-commune').value.trim(), village: $('tv-name').value.trim(),
        households: Number($('tv-households').value) }, 'tv-error');
    });
    loaders.tnv = loadVolunteers;
  };

  /* SECTIONS_BELOW */

  start();
}());
