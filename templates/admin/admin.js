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
    var saveStatus = form.querySelector('[data-autosave-status]');
    var bar = form.querySelector('.editor-actions');
    var saveTimer = null;
    var saving = null;
    var edits = 0;
    var dirty = false;
    var submitting = false;

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
      initCounters(node);
      renumber();
      var first = node.querySelector('input:not([type="hidden"]), textarea');
      if (first) {
        // Centred, so the sticky button bar below never covers the field that has the focus.
        first.focus({ preventScroll: true });
        first.scrollIntoView({ block: 'center' });
      }
      announcer.textContent = 'Ny blokk lagt til som nummer ' + blocks().length + '.';
    }

    // ---- character counters: the limit is shown, never enforced by cutting what was typed ----

    function countText(el) {
      var left = Number(el.getAttribute('data-maxlength')) - el.value.length;
      return left >= 0
        ? numberFormat.format(left) + ' tegn igjen'
        : numberFormat.format(-left) + ' tegn for mye';
    }

    function updateCounter(el) {
      var counter = el.parentNode.querySelector('[data-char-count]');
      if (!counter) return;
      counter.textContent = countText(el);
      counter.classList.toggle('over', el.value.length > Number(el.getAttribute('data-maxlength')));
    }

    /* maxlength would cut a long paste without a word (GOV.UK's character count drops it too): the
       server refuses what is too long, and the counter says so while typing. */
    function initCounters(root) {
      root.querySelectorAll('input[maxlength], textarea[maxlength]').forEach(function (el) {
        el.setAttribute('data-maxlength', el.getAttribute('maxlength'));
        el.removeAttribute('maxlength');
        var counter = document.createElement('p');
        counter.className = 'char-count';
        counter.id = el.id + '-count';
        counter.setAttribute('data-char-count', '');
        el.insertAdjacentElement('afterend', counter);
        var described = el.getAttribute('aria-describedby');
        el.setAttribute('aria-describedby', (described ? described + ' ' : '') + counter.id);
        updateCounter(el);
      });
    }

    // ---- a date that has passed: warned beside the field as it is typed ----

    var osloParts = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Oslo',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });

    /* Oslo's wall-clock time now, as a datetime-local value: such values compare as text. */
    function osloNow() {
      var p = {};
      osloParts.formatToParts(new Date()).forEach(function (part) {
        p[part.type] = part.value;
      });
      return p.year + '-' + p.month + '-' + p.day + 'T' + p.hour + ':' + p.minute;
    }

    function updatePastWarning(note) {
      var input = note.parentNode.querySelector('input');
      if (!input) return;
      var now = osloNow();
      var v = input.value;
      var past =
        note.getAttribute('data-past-date') === 'activity'
          ? /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && v.slice(0, 16) <= now
          : /^\d{4}-\d{2}-\d{2}$/.test(v) && v < now.slice(0, 10);
      var text = past ? note.getAttribute('data-warning') : '';
      if (note.textContent !== text) note.textContent = text;
    }

    // ---- touched fields: a block's errors are shown once one has left its fields ----

    function isTouched(path) {
      var own = form.querySelector('[name="' + path + '"]');
      if (own) return own.hasAttribute('data-touched');
      return !!form.querySelector(
        path.indexOf('blocks.') === 0 ? '[data-touched][name^="' + path + '."]' : '[data-touched]',
      );
    }

    // ---- autosave, and a warning before leaving with unsaved changes ----

    function markDirty() {
      dirty = true;
      edits++;
      clearTimeout(saveTimer);
      saveTimer = setTimeout(autosave, 2000);
    }

    function autosave() {
      if (!dirty || submitting) return;
      if (saving) {
        saving.then(function () {
          saveTimer = setTimeout(autosave, 200);
        });
        return;
      }
      var sent = edits;
      var body = new URLSearchParams(new FormData(form));
      body.set('op', 'autosave');
      saving = fetch(form.getAttribute('action'), {
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
          return res.ok ? res.json() : null;
        })
        .then(function (data) {
          if (!data) {
            saveStatus.textContent = 'Kunne ikke lagre automatisk. Lagre med knappen.';
          } else if (data.saved) {
            if (form.getAttribute('action') !== data.editUrl) {
              // A new draft now exists: from here on every save goes to it.
              form.setAttribute('action', data.editUrl);
              history.replaceState(null, '', data.editUrl);
            }
            if (edits === sent) dirty = false;
            saveStatus.textContent = data.savedText;
          } else {
            saveStatus.textContent = data.message || 'Ikke lagret ennå: noe må fylles ut eller rettes først.';
          }
        })
        .catch(function () {
          saveStatus.textContent = 'Kunne ikke lagre automatisk. Lagre med knappen.';
        })
        .then(function () {
          saving = null;
        });
    }

    window.addEventListener('beforeunload', function (ev) {
      if (!dirty || submitting) return;
      ev.preventDefault();
      ev.returnValue = '';
    });

    form.addEventListener('submit', function (ev) {
      clearTimeout(saveTimer);
      if (saving) {
        // An autosave may be creating the draft right now: post after it, to where it was stored.
        ev.preventDefault();
        var submitter = ev.submitter;
        saving.then(function () {
          form.requestSubmit(submitter);
        });
        return;
      }
      submitting = true;
    });

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
      markDirty();
    });
    form.addEventListener('input', function (ev) {
      if (ev.target.hasAttribute('data-maxlength')) updateCounter(ev.target);
      var note = ev.target.parentNode.parentNode.querySelector('[data-past-date]');
      if (note) updatePastWarning(note);
      schedule(450);
      markDirty();
    });
    form.addEventListener('change', function (ev) {
      var note = ev.target.parentNode.parentNode.querySelector('[data-past-date]');
      if (note) updatePastWarning(note);
      schedule(150);
      markDirty();
    });
    form.addEventListener('focusout', function (ev) {
      if (!ev.target.matches('input, textarea, select') || ev.target.hasAttribute('data-touched')) return;
      ev.target.setAttribute('data-touched', '');
      schedule(50);
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
            var shown = data.errors.filter(function (e) {
              return isTouched(e.path);
            });
            shown.forEach(function (e) {
              var item = document.createElement('li');
              item.textContent = (e.label ? e.label + ': ' : '') + e.message;
              errorList.appendChild(item);
            });
            errorList.hidden = shown.length === 0;
            status.textContent = shown.length
              ? 'Forhåndsvisningen oppdateres når dette er rettet:'
              : 'Forhåndsvisningen oppdateres når feltene er fylt ut riktig.';
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

    initCounters(form);
    form.querySelectorAll('[data-past-date]').forEach(updatePastWarning);
    // Fields the server refused were shown with their errors already: they count as touched.
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (el) {
      el.setAttribute('data-touched', '');
    });

    // The bar sticks to the bottom: the page scrolls a focused field clear of it (scroll-padding).
    if (bar && window.ResizeObserver) {
      new ResizeObserver(function () {
        var sticky = getComputedStyle(bar).position === 'sticky';
        document.documentElement.style.setProperty(
          '--sticky-bottom',
          sticky ? Math.ceil(bar.getBoundingClientRect().height) + 16 + 'px' : '0px',
        );
      }).observe(bar);
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
            // A new state needs other buttons: let the server draw the page again, without the
            // confirmation of the step before («Utsendelsen fortsetter.» above a finished send).
            if (s.status !== initial) {
              var line = section.querySelector('[data-status-line]');
              if (line && s.statusLine) line.textContent = s.statusLine;
              var next = new URL(window.location.href);
              next.searchParams.delete('melding');
              window.location.replace(next.toString());
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

  // ---- import progress ----

  /* Follows a running import (GET …/status.json every second): the bar, the share read and the
     counts; once it has ended, the server draws the final report. */
  function initImportProgress(section) {
    var url = section.getAttribute('data-import-url');

    function valueOf(s, path) {
      return path.split('.').reduce(function (o, k) {
        return o && typeof o === 'object' ? o[k] : undefined;
      }, s);
    }

    function tick() {
      fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } })
        .then(function (res) {
          return res.ok ? res.json() : null;
        })
        .then(function (s) {
          if (s) {
            if (s.status !== 'running') {
              window.location.reload();
              return;
            }
            var pct = Math.round(s.progress * 100);
            section.querySelectorAll('[data-count]').forEach(function (el) {
              var v = valueOf(s, el.getAttribute('data-count'));
              if (typeof v === 'number') el.textContent = numberFormat.format(v);
            });
            var bar = section.querySelector('[data-progress]');
            if (bar) {
              bar.setAttribute('aria-valuenow', String(pct));
              bar.querySelector('[data-progress-done]').style.width = pct + '%';
            }
            var pctEl = section.querySelector('[data-percent]');
            if (pctEl) pctEl.textContent = pct + ' %';
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
    var importing = document.querySelector('[data-import-url]');
    if (importing) initImportProgress(importing);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
