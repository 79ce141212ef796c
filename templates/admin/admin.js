/* Sothys Kundeklubb – admin. Progressive enhancement only: every page works without this file
   (forms post normally and the server applies the same edits). With it, blocks are added, moved
   and removed in place, the preview follows every keystroke, and the progress view updates
   every second. Served by the service under `script-src 'self'`; no inline script anywhere. */
(function () {
  'use strict';

  document.documentElement.classList.add('js');

  var numberFormat = new Intl.NumberFormat('nb-NO');

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  // ---- campaign editor ----

  function initEditor(form) {
    var list = form.querySelector('[data-blocks]');
    var empty = form.querySelector('[data-blocks-empty]');
    var pane = document.querySelector('.preview-pane');
    var frame = pane && pane.querySelector('[data-preview-frame]');
    var status = pane && pane.querySelector('[data-preview-status]');
    var errorList = pane && pane.querySelector('[data-preview-errors]');
    var countEl = form.querySelector('[data-audience-count]');
    var announcer = document.createElement('p');
    announcer.className = 'visually-hidden';
    announcer.setAttribute('aria-live', 'polite');
    form.appendChild(announcer);
    var timer = null;
    var seq = 0;

    function blocks() {
      return Array.prototype.filter.call(list.children, function (el) {
        return el.hasAttribute('data-block');
      });
    }

    /* Names, ids and button values carry the block's position (blocks.2.title): keep them in order. */
    function renumber() {
      var items = blocks();
      items.forEach(function (li, i) {
        li.id = 'block-' + i;
        li.querySelectorAll('*').forEach(function (el) {
          ['name', 'id', 'for', 'aria-describedby'].forEach(function (a) {
            var v = el.getAttribute(a);
            if (v) {
              el.setAttribute(
                a,
                v
                  .replace(/blocks\.(?:\d+|__i__)\./g, 'blocks.' + i + '.')
                  .replace(/blocks-(?:\d+|__i__)-/g, 'blocks-' + i + '-'),
              );
            }
          });
          if (el.matches('button[data-op]')) el.value = el.value.replace(/:(?:\d+|__i__)$/, ':' + i);
        });
        li.querySelector('[data-block-number]').textContent = String(i + 1);
        li.querySelector('button[value^="up:"]').disabled = i === 0;
        li.querySelector('button[value^="down:"]').disabled = i === items.length - 1;
      });
      if (empty) empty.hidden = items.length > 0;
    }

    function addBlock(type) {
      var tpl = document.getElementById('tpl-block-' + type);
      if (!tpl) return;
      var node = tpl.content.firstElementChild.cloneNode(true);
      list.appendChild(node);
      renumber();
      var first = node.querySelector('input:not([type="hidden"]), textarea');
      if (first) first.focus();
      announcer.textContent = 'Ny blokk lagt til som nummer ' + blocks().length + '.';
    }

    function move(li, dir) {
      if (dir < 0 && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
      else if (dir > 0 && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
      renumber();
      var same = li.querySelector(dir < 0 ? 'button[value^="up:"]' : 'button[value^="down:"]');
      var other = li.querySelector(dir < 0 ? 'button[value^="down:"]' : 'button[value^="up:"]');
      (same.disabled ? other : same).focus();
      announcer.textContent = 'Blokken er flyttet til plass ' + (blocks().indexOf(li) + 1) + '.';
    }

    function remove(li) {
      var next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      renumber();
      var target =
        next && next.hasAttribute('data-block')
          ? next.querySelector('button[data-op]:not([disabled])')
          : form.querySelector('.add-blocks button');
      if (target) target.focus();
      announcer.textContent = 'Blokken er fjernet.';
    }

    form.addEventListener('click', function (ev) {
      var btn = ev.target.closest('button[data-op]');
      if (!btn || !form.contains(btn)) return;
      ev.preventDefault();
      if (btn.disabled) return;
      var parts = btn.value.split(':');
      var li = btn.closest('[data-block]');
      if (parts[0] === 'add') addBlock(parts[1]);
      else if (parts[0] === 'remove' && li) remove(li);
      else if (parts[0] === 'up' && li) move(li, -1);
      else if (parts[0] === 'down' && li) move(li, 1);
      schedule(50);
    });
    form.addEventListener('input', function () {
      schedule(450);
    });
    form.addEventListener('change', function () {
      schedule(150);
    });

    function showCount(count) {
      if (!countEl || typeof count !== 'number') return;
      var strong = document.createElement('strong');
      strong.textContent = numberFormat.format(count);
      countEl.replaceChildren(
        strong,
        document.createTextNode(' ' + (count === 1 ? 'medlem' : 'medlemmer') + ' får dette nyhetsbrevet'),
      );
    }

    function refresh() {
      if (!frame) return;
      var mine = ++seq;
      var body = new URLSearchParams(new FormData(form));
      body.delete('op');
      status.textContent = 'Oppdaterer forhåndsvisningen …';
      fetch(form.getAttribute('data-preview-url'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-CSRF-Token': csrfToken(),
          Accept: 'application/json',
        },
        body: body,
      })
        .then(function (res) {
          if (mine !== seq) return null;
          if (!res.ok) {
            status.textContent =
              res.status === 403 || res.status === 401
                ? 'Økten er utløpt. Lagre er ikke mulig før du logger inn igjen.'
                : 'Forhåndsvisningen kunne ikke oppdateres.';
            return null;
          }
          return res.json();
        })
        .then(function (data) {
          if (!data || mine !== seq) return;
          showCount(data.count);
          errorList.replaceChildren();
          if (data.html) {
            frame.srcdoc = data.html;
            errorList.hidden = true;
            status.textContent = 'Oppdatert. Slik ser medlemmene nyhetsbrevet (med «Kari» som eksempelnavn).';
          } else {
            data.errors.forEach(function (e) {
              var item = document.createElement('li');
              item.textContent = (e.label ? e.label + ': ' : '') + e.message;
              errorList.appendChild(item);
            });
            errorList.hidden = data.errors.length === 0;
            status.textContent = 'Forhåndsvisningen oppdateres når dette er rettet:';
          }
        })
        .catch(function () {
          if (mine === seq) status.textContent = 'Forhåndsvisningen kunne ikke oppdateres.';
        });
    }

    function schedule(ms) {
      clearTimeout(timer);
      timer = setTimeout(refresh, ms);
    }

    // After a server-side edit (no script at the time), bring the changed block into view.
    var host = document.querySelector('[data-focus-block]');
    if (host) {
      var target = document.getElementById('block-' + host.getAttribute('data-focus-block'));
      if (target) {
        target.scrollIntoView({ block: 'center' });
        target.focus({ preventScroll: true });
      }
    }
  }

  // ---- sending progress ----

  function initProgress(section) {
    var initial = section.getAttribute('data-status');
    if (['sending', 'paused', 'scheduled'].indexOf(initial) < 0) return;
    var url = section.getAttribute('data-stats-url');

    function pct(part, total) {
      return (total > 0 ? Math.min(100, (part / total) * 100) : 100).toFixed(1) + '%';
    }

    function apply(s) {
      section.querySelectorAll('[data-stat]').forEach(function (el) {
        var v = s[el.getAttribute('data-stat')];
        if (typeof v === 'number') el.textContent = numberFormat.format(v);
      });
      var pctEl = section.querySelector('[data-stat-pct]');
      if (pctEl)
        pctEl.textContent =
          (s.total > 0 ? Math.round(((s.sent + s.failed + s.skipped) / s.total) * 100) : 100) + ' %';
      var bar = section.querySelector('[data-progress]');
      if (bar) {
        var done = s.sent + s.failed + s.skipped;
        bar.setAttribute('aria-valuemax', String(s.total));
        bar.setAttribute('aria-valuenow', String(done));
        bar.querySelector('[data-progress-done]').style.width = pct(done, s.total);
        bar.querySelector('[data-progress-sent]').style.width = pct(s.sent, s.total);
      }
    }

    function tick() {
      fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (res) {
          return res.ok ? res.json() : null;
        })
        .then(function (s) {
          if (s) {
            apply(s);
            // A new state needs other buttons: let the server draw the page again.
            if (s.status !== initial) {
              window.location.reload();
              return;
            }
          }
          setTimeout(tick, 1000);
        })
        .catch(function () {
          setTimeout(tick, 1000);
        });
    }
    setTimeout(tick, 1000);
  }

  function init() {
    // After a refused form, screen readers and keyboards start at the list of what to fix.
    var summary = document.getElementById('feil');
    if (summary) summary.focus();
    var editor = document.getElementById('campaign-editor');
    if (editor) initEditor(editor);
    var progress = document.querySelector('[data-stats-url]');
    if (progress) initProgress(progress);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
