-- The built-in app's schema (the splits-network recruiting stack), applied inside each demo's own schema.
-- Unqualified names: demo applies these with search_path set to the demo's schema.
CREATE TABLE companies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  industry TEXT NOT NULL,
  website TEXT NOT NULL,
  is_client BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE business_units (
  id INTEGER PRIMARY KEY,
  company_id INTEGER NOT NULL REFERENCES companies (id),
  name TEXT NOT NULL
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  company_id INTEGER REFERENCES companies (id),
  email TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'recruiter', 'hiring_manager', 'candidate')),
  -- scrypt$<salt hex>$<hash hex>; NULL for users that cannot log in.
  password_hash TEXT,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  company_id INTEGER NOT NULL REFERENCES companies (id),
  business_unit_id INTEGER REFERENCES business_units (id),
  hiring_manager_id INTEGER REFERENCES users (id),
  title TEXT NOT NULL,
  location TEXT NOT NULL,
  salary_min INTEGER NOT NULL,
  salary_max INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'on_hold', 'filled', 'closed')),
  opened_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE candidates (
  id INTEGER PRIMARY KEY,
  user_id INTEGER REFERENCES users (id),
  full_name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT NOT NULL,
  headline TEXT NOT NULL,
  city TEXT NOT NULL,
  years_experience INTEGER NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE applications (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs (id),
  candidate_id INTEGER NOT NULL REFERENCES candidates (id),
  stage TEXT NOT NULL CHECK (stage IN ('applied', 'screening', 'interview', 'offer', 'hired', 'rejected')),
  applied_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  UNIQUE (job_id, candidate_id)
);

CREATE TABLE recruiter_assignments (
  recruiter_id INTEGER NOT NULL REFERENCES users (id),
  job_id INTEGER NOT NULL REFERENCES jobs (id),
  assigned_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (recruiter_id, job_id)
);

CREATE INDEX idx_applications_job_stage ON applications (job_id, stage);
CREATE INDEX idx_applications_candidate ON applications (candidate_id);
