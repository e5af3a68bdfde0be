import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TempDatabase, TempMysqlDatabase } from '@dativo/testing/sql';

/**
 * Seeds for the v1 corpus's database jobs. The AdventureWorks tables follow the layout of
 * lorint/AdventureWorks-for-Postgres (lower-case names in schemas person, production, sales,
 * humanresources), which v1's jobs and assets name; rows come from the CSV files of the
 * AdventureWorks OLTP install script copied into the corpus (some truncated, see its README).
 * The MySQL tables are test_db's `employees` and `departments` (its employees.sql); the employees
 * dump is too large for the corpus, so employees are generated.
 */
export const SEEDS = path.join('tests', 'fixtures', 'seeds');

const AW_DDL = `
CREATE SCHEMA person; CREATE SCHEMA production; CREATE SCHEMA sales; CREATE SCHEMA humanresources;
CREATE TABLE person.person (businessentityid int PRIMARY KEY, persontype char(2) NOT NULL, namestyle boolean NOT NULL DEFAULT false,
  title varchar(8), firstname varchar(50) NOT NULL, middlename varchar(50), lastname varchar(50) NOT NULL, suffix varchar(10),
  emailpromotion int NOT NULL DEFAULT 0, additionalcontactinfo xml, demographics xml, rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
CREATE TABLE person.address (addressid int PRIMARY KEY, addressline1 varchar(60) NOT NULL, addressline2 varchar(60), city varchar(30) NOT NULL,
  stateprovinceid int NOT NULL, postalcode varchar(15) NOT NULL, spatiallocation bytea, rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
CREATE TABLE sales.customer (customerid int PRIMARY KEY, personid int, storeid int, territoryid int, rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
CREATE TABLE humanresources.employee (businessentityid int PRIMARY KEY, nationalidnumber varchar(15) NOT NULL, loginid varchar(256) NOT NULL,
  jobtitle varchar(50) NOT NULL, birthdate date NOT NULL, maritalstatus char(1) NOT NULL, gender char(1) NOT NULL, hiredate date NOT NULL,
  salariedflag boolean NOT NULL, vacationhours smallint NOT NULL, sickleavehours smallint NOT NULL, currentflag boolean NOT NULL,
  rowguid uuid NOT NULL, modifieddate timestamp NOT NULL, organizationnode varchar DEFAULT '/');
CREATE TABLE production.productcategory (productcategoryid int PRIMARY KEY, name varchar(50) NOT NULL, rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
CREATE TABLE production.product (productid int PRIMARY KEY, name varchar(50) NOT NULL, productnumber varchar(25) NOT NULL, makeflag boolean NOT NULL,
  finishedgoodsflag boolean NOT NULL, color varchar(15), safetystocklevel smallint NOT NULL, reorderpoint smallint NOT NULL,
  standardcost numeric NOT NULL, listprice numeric NOT NULL, size varchar(5), sizeunitmeasurecode char(3), weightunitmeasurecode char(3),
  weight numeric(8,2), daystomanufacture int NOT NULL, productline char(2), class char(2), style char(2), productsubcategoryid int,
  productmodelid int, sellstartdate timestamp NOT NULL, sellenddate timestamp, discontinueddate timestamp, rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
CREATE TABLE sales.salesorderheader (salesorderid int PRIMARY KEY, revisionnumber smallint NOT NULL, orderdate timestamp NOT NULL,
  duedate timestamp NOT NULL, shipdate timestamp, status smallint NOT NULL, onlineorderflag boolean NOT NULL DEFAULT true,
  purchaseordernumber varchar(25), accountnumber varchar(15), customerid int NOT NULL, salespersonid int, territoryid int,
  billtoaddressid int NOT NULL, shiptoaddressid int NOT NULL, shipmethodid int NOT NULL, creditcardid int, creditcardapprovalcode varchar(15),
  currencyrateid int, subtotal numeric NOT NULL, taxamt numeric NOT NULL, freight numeric NOT NULL, totaldue numeric, comment varchar(128),
  rowguid uuid NOT NULL, modifieddate timestamp NOT NULL);
`;

/** Reads a seed file as rows of text fields (tab-separated OLTP files, some UTF-16; or CSV with a header). */
function seedRows(corpus: string, file: string, options: { tab?: boolean; header?: boolean } = {}): string[][] {
  const bytes = readFileSync(path.join(corpus, SEEDS, file));
  const text = bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  return (options.header ? lines.slice(1) : lines).map((l) => l.split(options.tab ? '\t' : ','));
}

async function insert(db: TempDatabase, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const params: unknown[] = [];
    const values = chunk.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
    await db.exec(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, params);
  }
}

const orNull = (v: string | undefined): string | null => (v === undefined || v === '' || v === 'NULL' ? null : v);

/** Creates and fills the AdventureWorks tables v1's PostgreSQL jobs read. */
export async function seedAdventureWorks(db: TempDatabase, corpus: string): Promise<void> {
  await db.exec(AW_DDL);
  const oltp = 'AdventureWorks-oltp-install-script';
  await insert(db, 'person.person', ['businessentityid', 'persontype', 'namestyle', 'title', 'firstname', 'middlename', 'lastname', 'suffix', 'emailpromotion', 'additionalcontactinfo', 'demographics', 'rowguid', 'modifieddate'],
    seedRows(corpus, 'adventureworks/Person.csv', { header: true }).map((r) => r.map(orNull)));
  await insert(db, 'person.address', ['addressid', 'addressline1', 'addressline2', 'city', 'stateprovinceid', 'postalcode', 'rowguid', 'modifieddate'],
    seedRows(corpus, `${oltp}/Address.csv`, { tab: true }).map((r) => [r[0], r[1], orNull(r[2]), r[3], r[4], r[5], r[7], r[8]]));
  await insert(db, 'sales.customer', ['customerid', 'personid', 'storeid', 'territoryid', 'rowguid', 'modifieddate'],
    seedRows(corpus, `${oltp}/Customer.csv`, { tab: true }).map((r) => [r[0], orNull(r[1]), orNull(r[2]), orNull(r[3]), r[5], r[6]]));
  await insert(db, 'humanresources.employee', ['businessentityid', 'nationalidnumber', 'loginid', 'jobtitle', 'birthdate', 'maritalstatus', 'gender', 'hiredate', 'salariedflag', 'vacationhours', 'sickleavehours', 'currentflag', 'rowguid', 'modifieddate'],
    seedRows(corpus, `${oltp}/Employee.csv`, { tab: true }).map((r) => [r[0], r[1], r[2], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]]));
  await insert(db, 'production.productcategory', ['productcategoryid', 'name', 'rowguid', 'modifieddate'], seedRows(corpus, `${oltp}/ProductCategory.csv`, { tab: true }));
  await insert(db, 'production.product', ['productid', 'name', 'productnumber', 'makeflag', 'finishedgoodsflag', 'color', 'safetystocklevel', 'reorderpoint', 'standardcost', 'listprice', 'size', 'sizeunitmeasurecode', 'weightunitmeasurecode', 'weight', 'daystomanufacture', 'productline', 'class', 'style', 'productsubcategoryid', 'productmodelid', 'sellstartdate', 'sellenddate', 'discontinueddate', 'rowguid', 'modifieddate'],
    seedRows(corpus, `${oltp}/Product.csv`, { tab: true }).map((r) => r.map(orNull)));
  await insert(db, 'sales.salesorderheader', ['salesorderid', 'revisionnumber', 'orderdate', 'duedate', 'shipdate', 'status', 'purchaseordernumber', 'accountnumber', 'customerid', 'salespersonid', 'territoryid', 'billtoaddressid', 'shiptoaddressid', 'shipmethodid', 'creditcardid', 'creditcardapprovalcode', 'currencyrateid', 'subtotal', 'taxamt', 'freight', 'totaldue', 'comment', 'rowguid', 'modifieddate'],
    seedRows(corpus, 'adventureworks/SalesOrderHeader.csv', { header: true }).map((r) => [...r.slice(0, 6), ...r.slice(7)].map(orNull)));
}

/** test_db's departments (its dump) and generated employees, in a database named `employees` as v1's jobs expect. */
export async function seedEmployees(db: Pick<TempMysqlDatabase, 'exec'>, corpus: string, employees: number): Promise<void> {
  await db.exec(`CREATE TABLE employees (emp_no INT NOT NULL, birth_date DATE NOT NULL, first_name VARCHAR(14) NOT NULL, last_name VARCHAR(16) NOT NULL,
    gender ENUM ('M','F') NOT NULL, hire_date DATE NOT NULL, PRIMARY KEY (emp_no))`);
  await db.exec('CREATE TABLE departments (dept_no CHAR(4) NOT NULL, dept_name VARCHAR(40) NOT NULL, PRIMARY KEY (dept_no), UNIQUE KEY (dept_name))');
  await db.exec(readFileSync(path.join(corpus, SEEDS, 'test_db', 'load_departments.dump'), 'utf8'));
  const first = ['Georgi', 'Bezalel', 'Parto', 'Chirstian', 'Kyoichi', 'Anneke', 'Tzvetan', 'Saniya', 'Sumant', 'Duangkaew'];
  const last = ['Facello', 'Simmel', 'Bamford', 'Koblick', 'Maliniak', 'Preusig', 'Zielinski', 'Kalloufi', 'Peac', 'Piveteau'];
  for (let i = 0; i < employees; i += 500) {
    const rows: string[] = [];
    const params: unknown[] = [];
    for (let k = i; k < Math.min(employees, i + 500); k++) {
      rows.push('(?, ?, ?, ?, ?, ?)');
      const day = (n: number): string => new Date(Date.UTC(1950, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
      params.push(10001 + k, day((k * 37) % 5000), first[k % 10], last[(k * 7) % 10], k % 3 ? 'M' : 'F', day(12_800 + ((k * 13) % 4000)));
    }
    await db.exec(`INSERT INTO employees VALUES ${rows.join(', ')}`, params);
  }
}
