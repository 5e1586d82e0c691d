"""Checkout benchmark (orders, issue 6): the API flow create cart → add line → checkout on
gunicorn + PostgreSQL + Redis + a Celery worker; sequential and with concurrent clients;
then the time from the order's commit to its confirmation email handed to the backend.

    .venv/bin/python bench/checkout.py [--orders 100] [--clients 16] [--per-client 25]
"""

import argparse
import threading
import time

from _harness import Stack, checkout_flow, log, machine, percentile, summary


def run(stack, people, skus, *, clients: int, per_client: int):
    import requests

    flows, statuses, numbers = [], [], []
    lock = threading.Lock()

    def client(index):
        person = people[index % len(people)]
        session = requests.Session()
        for n in range(per_client):
            started = time.perf_counter()
            timings, codes, number = checkout_flow(session, stack.url, person["token"], person["address"],
                                                   skus[(index * 7 + n) % len(skus)])
            with lock:
                flows.append(time.perf_counter() - started)
                statuses.extend(codes)
                numbers.append(number)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    placed = [n for n in numbers if n]
    errors = sum(1 for s in statuses if s >= 400)
    return {"orders": len(placed), "failed": len(numbers) - len(placed), "elapsed": elapsed,
            "ops": len(placed) / elapsed, "flows": flows, "errors": errors, "requests": len(statuses),
            "numbers": placed}


def report(label, result):
    log(f"{label}: {result['orders']} orders in {result['elapsed']:.1f} s = {result['ops']:.1f} orders/s; "
        f"{result['failed']} failed flows, {result['errors']}/{result['requests']} requests with an error status")
    log(f"    flow latency (3 requests): {summary(result['flows'])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100, help="sequential orders")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=25)
    args = parser.parse_args()
    log(f"Machine: {machine()}")
    with Stack("checkout") as stack:
        skus, people = stack.seed(customers=max(args.clients, 1))
        stack.start()
        log(f"==> Sequential: {args.orders} orders, one client")
        sequential = run(stack, people, skus, clients=1, per_client=args.orders)
        report("sequential", sequential)
        log(f"==> Concurrent: {args.clients} clients × {args.per_client} orders")
        concurrent = run(stack, people, skus, clients=args.clients, per_client=args.per_client)
        report(f"{args.clients} clients", concurrent)

        drained = stack.wait_drained()
        log(f"==> Queue drained {drained:.1f} s after the last order")
        from notifications.models import OutgoingMessage
        from orders.models import Order

        placed = {number: (pk, at) for pk, number, at in Order.objects.values_list("pk", "number", "placed_at")}
        sent = {int(m.event.subject_id): m.sent_at for m in OutgoingMessage.objects.filter(
            event_name="order.confirmed", status="sent").select_related("event")}
        delays = []
        for label, result in (("sequential", sequential), (f"{args.clients} clients", concurrent)):
            phase = [(sent[pk] - at).total_seconds() for number in result["numbers"] if number
                     for pk, at in [placed[number]] if sent.get(pk)]
            delays += phase
            log(f"commit → confirmation email handed to the backend, {label} ({len(phase)} emails): "
                f"p50 {percentile(phase, 50) * 1000:.0f} ms · p95 {percentile(phase, 95) * 1000:.0f} ms · "
                f"max {max(phase, default=0) * 1000:.0f} ms")
        orders = Order.objects.count()
        log(f"orders in the database: {orders}; confirmation emails sent: {len(delays)}")
        log(f"Machine at the end: {machine()}")


if __name__ == "__main__":
    main()
