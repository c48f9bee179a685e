//! The demonstration shop's database: a SQLite file with customers, orders, invoices and
//! newsletter subscriptions, generated from a constant seed so every run (and every test)
//! holds the same rows. The named customers of [`super`] come first; the others are made up
//! from short lists of names, towns and products, on example.com/.org/.net addresses only.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use chrono::{Days, NaiveDate};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;

use super::{CAMILLE, HUGO, LEA};

/// Customers in the shop, the named ones included.
pub const CUSTOMERS: u32 = 3_000;
/// Addresses subscribed to the newsletter without a customer account, Léa Petit included.
pub const NEWSLETTER_ONLY: u32 = 150;
const SEED: u64 = 0x5EED_B0B1_DE00_2026;

/// Foreign keys declared as a real shop would: orders and invoices belong to a customer.
/// An invoice copies its order's number instead of pointing at the order, so erasure can
/// delete orders while the invoices the law keeps stay whole; and since kept invoices still
/// point at the customer, the sources file anonymises customers rather than deleting them.
const SCHEMA: &str = "
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  ref TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  first_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  phone TEXT NOT NULL,
  language TEXT NOT NULL,
  created_at TEXT NOT NULL,
  restricted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customers_email ON customers (lower(email));
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  placed_on TEXT NOT NULL,
  status TEXT NOT NULL,
  items TEXT NOT NULL,
  total_cents INTEGER NOT NULL,
  shipping_address TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE invoices (
  number TEXT PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  order_number TEXT NOT NULL,
  issued_on TEXT NOT NULL,
  total_cents INTEGER NOT NULL,
  vat_cents INTEGER NOT NULL,
  billing_name TEXT NOT NULL,
  billing_address TEXT NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE TABLE newsletter_subscribers (
  email TEXT PRIMARY KEY,
  subscribed_at TEXT NOT NULL,
  topics TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1
);
";

const FIRST_NAMES: &[&str] = &[
    "Alice",
    "Antoine",
    "Chloé",
    "Clément",
    "Élise",
    "Émile",
    "Inès",
    "Jules",
    "Léon",
    "Lina",
    "Louise",
    "Lucas",
    "Manon",
    "Mathis",
    "Nina",
    "Noé",
    "Océane",
    "Paul",
    "Rose",
    "Sacha",
    "Théo",
    "Zoé",
    "Hélène",
    "François",
    "Anaïs",
    "Gaëlle",
    "Jérôme",
    "Agnès",
    "Mehdi",
    "Yasmine",
];
const LAST_NAMES: &[&str] = &[
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Perrin",
];
const STREETS: &[&str] = &[
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Pasteur",
    "rue des Écoles",
    "place de la Mairie",
    "rue du Moulin",
    "allée des Tilleuls",
    "chemin des Vignes",
    "rue Nationale",
    "impasse des Lilas",
    "quai des Chartrons",
];
const TOWNS: &[(&str, &str)] = &[
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
    ("44000", "Nantes"),
    ("31000", "Toulouse"),
    ("67000", "Strasbourg"),
    ("35000", "Rennes"),
    ("34000", "Montpellier"),
    ("21000", "Dijon"),
    ("29200", "Brest"),
];
/// Products and their price in cents, tax included.
const PRODUCTS: &[(&str, i64)] = &[
    ("Théière en fonte", 4590),
    ("Tasses en grès x6", 2400),
    ("Moulin à café", 3900),
    ("Thé vert Sencha 100 g", 890),
    ("Café de Colombie 250 g", 760),
    ("Bouilloire à température réglable", 6990),
    ("Carafe filtrante", 2990),
    ("Plateau en chêne", 3450),
    ("Boîte à thé en métal", 1290),
    ("Infuseur inox", 690),
    ("Cafetière à piston", 2790),
    ("Coffret découverte", 3900),
];
const TOPICS: &[&str] = &["thé", "café", "promotions", "nouveautés", "recettes"];

/// SplitMix64: a few lines, a fixed seed, the same sequence on every machine.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; the small bias of a modulo does not matter here).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn date(&mut self, from: NaiveDate, days: usize) -> NaiveDate {
        from + Days::new(self.below(days) as u64)
    }
}

/// An SQL string literal. Only our own generated text goes through here, never input.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The ASCII letters of a name, for an address: "Gaëlle" → "gaelle".
fn ascii_lower(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => Some('e'),
            'î' | 'ï' => Some('i'),
            'ô' | 'ö' => Some('o'),
            'ù' | 'û' | 'ü' => Some('u'),
            'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// One order of a customer, and its invoice when it was paid.
struct Order<'a> {
    placed_on: NaiveDate,
    status: &'a str,
    items: Vec<(&'a str, i64, i64)>,
    invoiced: bool,
}

struct Writer {
    sql: String,
    order_id: u32,
    invoice_seq: u32,
}

impl Writer {
    fn customer(&mut self, id: u32, email: &str, first: &str, last: &str, phone: &str) {
        let created = ymd(2019, 1, 1) + Days::new(u64::from(id % 1800));
        let _ = writeln!(
            self.sql,
            "INSERT INTO customers (id, ref, email, first_name, last_name, phone, language, created_at) \
             VALUES ({id}, {}, {}, {}, {}, {}, 'fr', '{created}');",
            lit(&customer_ref(id)),
            lit(email),
            lit(first),
            lit(last),
            lit(phone),
        );
    }

    fn order(&mut self, customer: u32, billing_name: &str, address: &str, o: &Order<'_>) {
        self.order_id += 1;
        let id = self.order_id;
        let number = format!("CMD-{}-{id:06}", o.placed_on.format("%Y"));
        let total: i64 = o.items.iter().map(|(_, q, p)| q * p).sum();
        let items = o
            .items
            .iter()
            .map(|(name, q, _)| format!("{q} × {name}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            self.sql,
            "INSERT INTO orders (id, number, customer_id, placed_on, status, items, total_cents, shipping_address) \
             VALUES ({id}, {}, {customer}, '{}', {}, {}, {total}, {});",
            lit(&number),
            o.placed_on,
            lit(o.status),
            lit(&items),
            lit(address),
        );
        if o.invoiced {
            self.invoice_seq += 1;
            let issued = o.placed_on + Days::new(1);
            let invoice = format!("F-{}-{:06}", issued.format("%Y"), self.invoice_seq);
            // Prices include 20 % VAT: the tax is a sixth of the total.
            let vat = (total + 3) / 6;
            let _ = writeln!(
                self.sql,
                "INSERT INTO invoices (number, customer_id, order_number, issued_on, total_cents, vat_cents, billing_name, billing_address) \
                 VALUES ({}, {customer}, {}, '{issued}', {total}, {vat}, {}, {});",
                lit(&invoice),
                lit(&number),
                lit(billing_name),
                lit(address),
            );
        }
    }

    fn subscriber(&mut self, email: &str, since: NaiveDate, topics: &str) {
        let _ = writeln!(
            self.sql,
            "INSERT INTO newsletter_subscribers (email, subscribed_at, topics, active) \
             VALUES ({}, '{since}', {}, 1);",
            lit(email),
            lit(topics),
        );
    }
}

pub fn customer_ref(id: u32) -> String {
    format!("C-{id:05}")
}

/// The named customers' rows, as the README tells their story.
fn named(w: &mut Writer) {
    let camille_address = "12 rue des Lilas, 69003 Lyon";
    w.customer(1, CAMILLE.email, "Camille", "Martin", "+33 6 12 34 56 78");
    for (placed_on, items) in [
        (ymd(2024, 3, 12), vec![("Théière en fonte", 1, 4590)]),
        (
            ymd(2025, 6, 3),
            vec![
                ("Tasses en grès x6", 1, 2400),
                ("Thé vert Sencha 100 g", 2, 890),
            ],
        ),
        (ymd(2026, 1, 15), vec![("Moulin à café", 1, 3900)]),
    ] {
        let order = Order {
            placed_on,
            status: "livrée",
            items,
            invoiced: true,
        };
        w.order(1, CAMILLE.name, camille_address, &order);
    }
    w.subscriber(CAMILLE.email, ymd(2024, 3, 12), "thé,promotions");

    // Hugo cancelled his only order before paying: an order, no invoice.
    w.customer(2, HUGO.email, "Hugo", "Bernard", "+33 7 98 76 54 32");
    let order = Order {
        placed_on: ymd(2025, 11, 2),
        status: "annulée",
        items: vec![("Bouilloire à température réglable", 1, 6990)],
        invoiced: false,
    };
    w.order(2, HUGO.name, "3 place du Marché, 35000 Rennes", &order);

    // Léa only reads the newsletter: no account, no order.
    w.subscriber(LEA.email, ymd(2023, 9, 18), "recettes,nouveautés");
}

/// Everything else: made-up customers from the seed.
fn generated(w: &mut Writer, rng: &mut Prng) {
    const DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
    for id in 3..=CUSTOMERS {
        let first = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        // The id in the address keeps it unique and apart from the named customers'.
        let email = format!(
            "{}.{}{id}@{}",
            ascii_lower(first),
            ascii_lower(last),
            rng.pick(DOMAINS)
        );
        let phone = format!(
            "+33 6 {:02} {:02} {:02} {:02}",
            rng.below(100),
            rng.below(100),
            rng.below(100),
            rng.below(100)
        );
        w.customer(id, &email, first, last, &phone);
        let (postcode, town) = *rng.pick(TOWNS);
        let address = format!(
            "{} {}, {postcode} {town}",
            1 + rng.below(120),
            rng.pick(STREETS)
        );
        let name = format!("{first} {last}");
        for _ in 0..rng.below(5) {
            let placed_on = rng.date(ymd(2021, 1, 1), 2100);
            let status = match rng.below(20) {
                0 => "annulée",
                1 => "en préparation",
                _ => "livrée",
            };
            let items = (0..1 + rng.below(3))
                .map(|_| {
                    let (product, price) = *rng.pick(PRODUCTS);
                    (product, 1 + rng.below(2) as i64, price)
                })
                .collect();
            let order = Order {
                placed_on,
                status,
                items,
                invoiced: status != "annulée",
            };
            w.order(id, &name, &address, &order);
        }
        if rng.chance(35) {
            let topics = [*rng.pick(TOPICS), *rng.pick(TOPICS)];
            let topics = if topics[0] == topics[1] {
                topics[0].to_string()
            } else {
                topics.join(",")
            };
            w.subscriber(&email, rng.date(ymd(2020, 1, 1), 2000), &topics);
        }
    }
    for k in 1..NEWSLETTER_ONLY {
        let (first, last) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
        let email = format!(
            "{}.{}.lettre{k}@{}",
            ascii_lower(first),
            ascii_lower(last),
            rng.pick(DOMAINS)
        );
        let since = rng.date(ymd(2020, 1, 1), 2000);
        let topic = *rng.pick(TOPICS);
        w.subscriber(&email, since, topic);
    }
}

/// The whole database as SQL text: the schema, then every row in one transaction.
fn script() -> String {
    let mut w = Writer {
        sql: String::with_capacity(4 << 20),
        order_id: 0,
        invoice_seq: 0,
    };
    w.sql.push_str(SCHEMA);
    w.sql.push_str("BEGIN;\n");
    named(&mut w);
    generated(&mut w, &mut Prng(SEED));
    w.sql.push_str("COMMIT;\n");
    w.sql
}

/// Writes the shop at `path` unless it is there already (it then keeps what earlier runs
/// erased or changed). Written beside it first and renamed, so an interrupted start never
/// leaves half a shop that later runs would take for the whole.
pub fn create_if_absent(path: &Path) -> anyhow::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    let partial = path.with_extension("sqlite3.partial");
    if partial.exists() {
        std::fs::remove_file(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let url = partial
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", partial.display()))?;
    let mut conn = SqliteConnection::establish(url)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    conn.batch_execute(&script())
        .with_context(|| format!("cannot fill {}", partial.display()))?;
    drop(conn);
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move the shop to {}", path.display()))?;
    Ok(true)
}
