// check.js -- the HTML report in headless Chromium (puppeteer-core):
//   node check.js REPORT.html OUTDIR
// Loads the page offline at 1400 px and 400 px wide, saves full-page
// screenshots OUTDIR/report-1400.png and OUTDIR/report-400.png, and prints
// one JSON object per width: the page's scrollWidth, the smallest rendered
// chart text (px), the data-metric figures as shown, and the requests the
// page tried to make beyond its own file (there must be none).
'use strict';
const puppeteer = require('puppeteer-core');
const os = require('os');
const fs = require('fs');
const path = require('path');

async function main() {
  const [file, outdir] = process.argv.slice(2);
  if (!file || !outdir) {
    console.error('usage: node check.js REPORT.html OUTDIR');
    process.exit(2);
  }
  const url = 'file://' + path.resolve(file);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tenure-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const width of [1400, 400]) {
      const page = await browser.newPage();
      const outside = [];
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        if (req.url() === url || req.url().startsWith('data:')) req.continue();
        else { outside.push(req.url()); req.abort(); }
      });
      await page.setViewport({ width, height: 900, deviceScaleFactor: 1 });
      await page.goto(url, { waitUntil: 'load' });
      const m = await page.evaluate(() => {
        let minText = Infinity;
        for (const t of document.querySelectorAll('svg text')) {
          if (!t.textContent.trim()) continue;
          const h = t.getBoundingClientRect().height;
          if (h > 0 && h < minText) minText = h;
        }
        const metrics = {};
        for (const e of document.querySelectorAll('[data-metric]'))
          metrics[e.getAttribute('data-metric')] = e.textContent;
        return {
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          minChartText: minText,
          sections: document.querySelectorAll('h2').length,
          metrics,
        };
      });
      m.width = width;
      m.outside = outside;
      await page.screenshot({ path: path.join(outdir, `report-${width}.png`), fullPage: true });
      console.log(JSON.stringify(m));
      await page.close();
    }
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
