// app.js -- small enhancements; every page works without it.
//  * hover read-out: points of a chart carry data-tip; show it in a box by the pointer
//  * tables: sort by a column (click its heading), page 25 rows at a time
'use strict';
(function () {
  var tip = document.createElement('div');
  tip.id = 'tip';
  tip.setAttribute('role', 'status');
  document.body.appendChild(tip);
  document.addEventListener('mouseover', function (e) {
    var t = e.target;
    if (t && t.getAttribute && t.getAttribute('data-tip')) {
      tip.textContent = t.getAttribute('data-tip');
      tip.style.display = 'block';
    }
  });
  document.addEventListener('mousemove', function (e) {
    if (tip.style.display === 'block') {
      var x = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4);
      tip.style.left = Math.max(0, x) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    }
  });
  document.addEventListener('mouseout', function (e) {
    if (e.target && e.target.getAttribute && e.target.getAttribute('data-tip')) tip.style.display = 'none';
  });

  var rtl = document.documentElement.dir === 'rtl';
  var words = {
    en: ['Previous', 'Next', 'Page'], ar: ['السابق', 'التالي', 'صفحة'], fa: ['قبلی', 'بعدی', 'صفحه']
  }[document.documentElement.lang] || ['Previous', 'Next', 'Page'];
  // page numbers in the language's digits when the page asks for them
  var native = document.documentElement.getAttribute('data-digits') === 'native';
  var zero = document.documentElement.lang === 'fa' ? 0x6F0 : 0x660;
  function digits(n) {
    return native ? String(n).replace(/[0-9]/g, function (d) { return String.fromCharCode(zero + +d); }) : String(n);
  }
  function pager(table) {
    var size = +table.getAttribute('data-page') || 25;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var box = table.parentNode.nextElementSibling;
    if (!box || !box.classList.contains('pager')) {
      if (rows.length <= size) return;
      box = document.createElement('div');
      box.className = 'pager';
      table.parentNode.parentNode.insertBefore(box, table.parentNode.nextSibling);
    }
    var page = +table.getAttribute('data-at') || 0, pages = Math.ceil(rows.length / size);
    if (page >= pages) page = pages - 1;
    rows.forEach(function (r, i) { r.hidden = i < page * size || i >= (page + 1) * size; });
    box.textContent = '';
    var prev = document.createElement('button'), next = document.createElement('button'), at = document.createElement('span');
    prev.type = next.type = 'button';
    prev.textContent = words[0];
    next.textContent = words[1];
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    at.textContent = words[2] + ' ' + digits(page + 1) + ' / ' + digits(pages);
    prev.onclick = function () { table.setAttribute('data-at', page - 1); pager(table); };
    next.onclick = function () { table.setAttribute('data-at', page + 1); pager(table); };
    box.appendChild(prev); box.appendChild(at); box.appendChild(next);
  }
  function key(td) {
    var v = td.getAttribute('data-v');
    return v !== null ? +v : td.textContent.trim().toLowerCase();
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, col) {
      var b = th.querySelector('button.sort');
      if (!b) return;
      b.onclick = function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        Array.prototype.forEach.call(ths, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, c) {
          var x = key(a.cells[col]), y = key(c.cells[col]);
          if (typeof x === 'number' && typeof y === 'number') return dir * (x - y);
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
        table.setAttribute('data-at', 0);
        pager(table);
      };
    });
    pager(table);
  });
  void rtl;
})();
