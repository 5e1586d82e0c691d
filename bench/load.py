"""Mixed load: portal pages and API checkouts from a bounded number of client threads, on
gunicorn + PostgreSQL + Redis + a Celery worker, for a fixed time. Prints requests per
second, p50/p95/p99 latency, the error rate, and how long the queue takes to drain.

    .venv/bin/python bench/load.py [--duration 150] [--clients 12]

Mix per client iteration: 45 % catalog (list page, a product page), 20 % own orders (list,
a detail page), 35 % the API checkout flow (cart → line → checkout). Every customer signs
in once through the portal's login form (CSRF included) and uses an API token for the API.
"""

import argparse
import random
import re
import threading
import time
from collections import defaultdict

from _harness import PASSWORD, Stack, checkout_flow, log, machine, summary


def login(session, base, email):
    page = session.get(f"{base}/account/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{base}/account/login/", data={"username": email, "password": PASSWORD,
                                                            "csrfmiddlewaretoken": token},
                            headers={"Referer": f"{base}/account/login/"}, timeout=30)
    assert "/account/login/" not in response.url, f"login failed for {email}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=150, help="seconds of load")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    import requests

    log(f"Machine: {machine()}")
    with Stack("load") as stack:
        skus, people = stack.seed(customers=args.clients)
        stack.start()
        samples = defaultdict(list)  # kind -> [(latency, status)]
        lock = threading.Lock()
        stop_at = time.monotonic() + args.duration
        orders_placed = [0]

        def record(kind, started, status):
            with lock:
                samples[kind].append((time.perf_counter() - started, status))

        def get(session, kind, path):
            started = time.perf_counter()
            try:
                response = session.get(stack.url + path, timeout=60)
                record(kind, started, response.status_code)
                return response
            except requests.RequestException:
                record(kind, started, 599)
                return None

        def client(index):
            rng = random.Random(args.seed + index)
            person = people[index]
            portal = requests.Session()
            login(portal, stack.url, person["email"])
            api = requests.Session()
            numbers = []
            while time.monotonic() < stop_at:
                roll = rng.random()
                if roll < 0.45:
                    get(portal, "portal catalog", f"/catalog/?page={rng.randint(1, 3)}")
                    get(portal, "portal catalog", f"/catalog/bench-{rng.randrange(len(skus))}/")
                elif roll < 0.65:
                    get(portal, "portal orders", "/orders/")
                    if numbers:
                        get(portal, "portal orders", f"/orders/{rng.choice(numbers)}/")
                else:
                    try:
                        timings, statuses, number = checkout_flow(api, stack.url, person["token"], person["address"],
                                                                  rng.choice(skus), rng.randint(1, 3))
                    except requests.RequestException:
                        timings, statuses, number = [0.0], [599], None
                    with lock:
                        samples["api checkout flow"].extend(zip(timings, statuses, strict=True))
                        orders_placed[0] += bool(number)
                    if number:
                        numbers.append(number)

        log(f"==> {args.clients} clients for {args.duration:.0f} s")
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        next_report = started + 30
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            if time.monotonic() >= next_report:
                done = sum(len(v) for v in samples.values())
                log(f"    {time.monotonic() - started:.0f} s: {done} requests, {orders_placed[0]} orders, "
                    f"backlog {stack.backlog()}")
                next_report += 30
        elapsed = time.monotonic() - started
        backlog = stack.backlog()
        drained = stack.wait_drained()

        everything = [s for kind in samples.values() for s in kind]
        errors = sum(1 for _, status in everything if status >= 400)
        log("")
        log(f"Requests: {len(everything)} in {elapsed:.0f} s = {len(everything) / elapsed:.1f} req/s; "
            f"orders placed: {orders_placed[0]} ({orders_placed[0] / elapsed:.2f}/s)")
        log(f"Latency, all requests: {summary([t for t, _ in everything])}")
        for kind, values in sorted(samples.items()):
            kind_errors = sum(1 for _, status in values if status >= 400)
            log(f"    {kind:<18} {len(values):>6} requests, {kind_errors} errors · {summary([t for t, _ in values])}")
        log(f"Error rate: {errors / max(len(everything), 1) * 100:.2f} % ({errors} of {len(everything)})")
        log(f"Backlog when the load stopped: {backlog}; drained {drained:.1f} s later")
        log(f"Machine at the end: {machine()}")


if __name__ == "__main__":
    main()
