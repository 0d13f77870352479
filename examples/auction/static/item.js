// The item page's live side: joins the room item:<id> on the /item namespace, shows
// every bid as it happens, sends bids with an ack, and counts down by the server's clock.
// window.auctionLog records what happened with timestamps (performance.timeOrigin +
// performance.now(), comparable across tabs), for the end-to-end test and the curious.
(() => {
  const root = document.getElementById('item');
  const itemId = Number(root.dataset.item);
  const endsMs = Number(root.dataset.ends);
  const me = root.dataset.user;
  let offset = Number(root.dataset.now) - Date.now(); // server clock minus ours
  let closed = false;
  const log = (window.auctionLog = []);
  const stamp = () => performance.timeOrigin + performance.now();
  const $ = (id) => document.getElementById(id);

  const status = (text, kind) => {
    const el = $('bid-status');
    el.textContent = text;
    el.className = `status ${kind || ''}`;
  };

  const timeOf = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const fillTimes = () => {
    for (const el of document.querySelectorAll('time[data-ms]')) el.textContent = timeOf(Number(el.dataset.ms));
  };

  const bidRow = (amount, bidder, placedMs) => {
    const li = document.createElement('li');
    const b = document.createElement('b');
    b.textContent = `$${amount}`;
    const who = document.createElement('span');
    who.textContent = bidder;
    const time = document.createElement('time');
    time.dataset.ms = placedMs;
    time.textContent = timeOf(placedMs);
    li.append(b, ' ', who, ' ', time);
    return li;
  };

  const setLeader = (bidder) => {
    const el = $('leader');
    el.textContent = '';
    if (!bidder) { el.textContent = 'no bids yet'; return; }
    const b = document.createElement('b');
    b.textContent = bidder === me ? 'you' : bidder;
    el.append('highest bid by ', b);
  };

  const setMinimum = (minNext) => {
    const input = $('amount');
    if (input) input.placeholder = `${minNext} or more`;
  };

  const applyBid = (update) => {
    $('price').textContent = `$${update.price}`;
    $('bid-count').textContent = update.bid_count;
    $('no-bids').hidden = true;
    setLeader(update.bid.bidder);
    setMinimum(update.min_next);
    const row = bidRow(update.amount, update.bid.bidder, update.bid.placed_ms);
    row.classList.add('fresh');
    $('bids').prepend(row);
    const price = $('price');
    price.classList.remove('flash-up');
    void price.offsetWidth; // restart the animation
    price.classList.add('flash-up');
  };

  const showClosed = (result) => {
    closed = true;
    $('countdown').textContent = '—';
    $('countdown').classList.remove('soon');
    $('clock-label').textContent = 'Ended';
    $('price-label').textContent = 'Final price';
    const form = $('bid-form');
    if (form) form.hidden = true;
    status('', '');
    const el = $('result');
    el.hidden = false;
    el.textContent = '';
    if (result.winner) {
      const b = document.createElement('b');
      b.textContent = result.winner === me ? 'you' : result.winner;
      el.append(result.winner === me ? 'You won! Sold to ' : 'Sold to ', b, ` for $${result.price}.`);
      el.classList.toggle('won', result.winner === me);
    } else {
      el.textContent = 'Ended without bids.';
    }
  };

  const format = (ms) => {
    const s = Math.max(0, Math.ceil(ms / 1000));
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (d) return `${d}d ${h}h ${pad(m)}m`;
    if (h) return `${h}h ${pad(m)}m ${pad(s % 60)}s`;
    return `${m}:${pad(s % 60)}`;
  };
  const tick = () => {
    if (closed) return;
    const left = endsMs - (Date.now() + offset);
    const el = $('countdown');
    el.textContent = left > 0 ? format(left) : 'closing…';
    el.classList.toggle('soon', left > 0 && left < 60000);
  };

  fillTimes();
  tick();
  setInterval(tick, 250);

  const socket = io('/item');
  socket.on('connect', () => {
    socket.emit('watch', itemId, (state) => {
      if (!state || !state.ok) return;
      offset = state.now_ms - Date.now();
      log.push({ type: 'watching', at: stamp() });
      if (state.item.ended && !closed) {
        showClosed({ winner: state.item.top_bidder, price: state.item.price });
      }
    });
  });
  socket.on('bid', (update) => {
    log.push({ type: 'bid', at: stamp(), cents: update.bid.cents, bidder: update.bid.bidder });
    applyBid(update);
  });
  socket.on('closed', (result) => {
    log.push({ type: 'closed', at: stamp(), winner: result.winner });
    showClosed(result);
  });
  socket.on('viewers', (count) => {
    $('viewers').textContent = count === 1 ? '1 watching' : `${count} watching`;
  });
  socket.on('disconnect', () => status('Reconnecting…', 'muted'));

  const form = $('bid-form');
  if (form) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('amount');
      const amount = input.value.trim();
      if (!amount) { input.focus(); return; }
      const button = $('bid-button');
      button.disabled = true;
      const sent = stamp();
      socket.timeout(5000).emit('bid', { item: itemId, amount }, (error, ack) => {
        button.disabled = false;
        if (error) { status('No answer from the server. Try again.', 'error'); return; }
        log.push({ type: 'ack', at: stamp(), sent, ok: ack.ok, reason: ack.reason || null });
        if (ack.ok) {
          status(`Bid accepted: $${ack.bid.amount}. You are the highest bidder.`, 'ok');
          input.value = '';
        } else {
          status(ack.message, 'error');
        }
      });
    });
  }
})();
